//! doorward measured against the libraries its users would otherwise reach
//! for, side by side in one criterion run: `cargo bench -p doorward-peers`.
//! The code is in `benches/`; this library is empty.
