//! One version for every package: `doorward --version` prints the Cargo
//! workspace's version, which the Node package's package.json (and the
//! Python package, built from the same workspace) carry too.
//! `scripts/version` checks and sets them all.

use std::path::Path;

use serde_json::Value;

use crate::common::{bare_cmd, describe, stdout};

#[test]
fn version_prints_the_workspace_version() {
    // CARGO_PKG_VERSION is [workspace.package]'s: the crate inherits it.
    let out = bare_cmd().arg("--version").output().expect("run doorward");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        format!("doorward {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_node_package_has_the_same_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("node/package.json")).expect("node/package.json");
    let package: Value = serde_json::from_str(&text).expect("package.json is JSON");
    assert_eq!(
        package["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "node/package.json and Cargo.toml disagree: scripts/version X.Y.Z sets every place"
    );
}
