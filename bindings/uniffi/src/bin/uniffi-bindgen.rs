//! `cargo run -p doorward-uniffi --bin uniffi-bindgen -- generate --library
//! <libdoorward_uniffi.so> --language kotlin --out-dir <dir>`: uniffi's own
//! generator, pinned to the library's uniffi version.

fn main() {
    uniffi::uniffi_bindgen_main()
}
