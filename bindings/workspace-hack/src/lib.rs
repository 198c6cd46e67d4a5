//! No code: this crate only enables features of the dependencies the
//! Python, Node and uniffi bindings share, so each binding's separate
//! release build resolves the same features and reuses the compiled crates
//! of the others (see its Cargo.toml).
