//! Empty: it exists so cargo resolves `[build-dependencies]`, whose
//! features must match across the bindings too (see Cargo.toml).
fn main() {}
