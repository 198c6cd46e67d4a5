"""One version for every package: `doorward.__version__` is the version of the
Rust crates (Cargo.toml's [workspace.package], which the native module is
built with and `doorward --version` prints), of the installed distribution
(maturin takes it from the crate) and of the Node package. scripts/version
checks and sets them all."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import doorward
from doorward import _native

ROOT = Path(__file__).resolve().parents[2]


def workspace_version() -> str:
    """`version` of Cargo.toml's [workspace.package] table."""
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    table = re.search(r"^\[workspace\.package\][ \t]*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert table, "Cargo.toml has a [workspace.package] table"
    found = re.search(r'^version[ \t]*=[ \t]*"([^"]+)"', table.group(1), re.M)
    assert found, "Cargo.toml [workspace.package] sets version"
    return found.group(1)


def test_version_is_the_cargo_workspace_version() -> None:
    assert isinstance(doorward.__version__, str)
    assert doorward.__version__ == _native.__version__
    assert doorward.__version__ == workspace_version(), (
        "the native module was built from another version than Cargo.toml's: "
        "scripts/version X.Y.Z sets every place"
    )


def test_version_is_the_installed_distribution_version() -> None:
    assert version("doorward") == doorward.__version__


def test_version_is_the_node_package_version() -> None:
    package = json.loads((ROOT / "node" / "package.json").read_text(encoding="utf-8"))
    assert package["version"] == doorward.__version__
