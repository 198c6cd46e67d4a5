#!/usr/bin/env python3
"""The three bindings' release builds share their compiled crates only if
every crate they share gets the same features in each (cargo resolves
features per build, and maturin, napi and scripts/mobile each build one
binding). bindings/workspace-hack enables the union; this check lists any
shared crate whose features differ between the bindings' dependency trees,
with the features to add to bindings/workspace-hack/Cargo.toml.

Compared per crate: the union of the feature sets `cargo tree` shows for it
(a crate built both for a build script and for the library appears twice),
so a difference is real drift, not a host/target split. Run by
scripts/test; a few seconds (cargo tree reads Cargo.lock, builds nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDINGS = ["doorward-python", "doorward-node", "doorward-uniffi"]
# doorward's own features are each binding's choice (see the hack's
# Cargo.toml): the uniffi library leaves out OpenTelemetry.
OWN = {"doorward"}


def host() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("host:"))


def features(package: str, target: str) -> dict[str, set[str]]:
    out = subprocess.run(
        [
            "cargo",
            "tree",
            "--locked",
            "-p",
            package,
            "--target",
            target,
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "-f",
            "{p}|{f}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, set[str]] = {}
    for line in out.splitlines():
        if "|" not in line:
            continue
        name, feats = line.replace(" (*)", "").replace(" (proc-macro)", "").split("|", 1)
        found.setdefault(name.strip(), set()).update(f for f in feats.split(",") if f)
    return found


def main() -> int:
    target = os.environ.get("CARGO_BUILD_TARGET") or host()
    trees = {b: features(b, target) for b in BINDINGS}
    drift = []
    names = set().union(*trees.values())
    for name in sorted(names):
        if name.split(" ")[0] in OWN:
            continue
        present = {b: t[name] for b, t in trees.items() if name in t}
        if len(present) < 2:
            continue
        union = set().union(*present.values())
        for binding, feats in present.items():
            if feats != union:
                drift.append(f"  {name}: {binding} lacks {', '.join(sorted(union - feats))}")
    if drift:
        print(
            "tests/features.py: the bindings enable different features of shared crates,",
            file=sys.stderr,
        )
        print(
            "so each release build recompiles them; add these to bindings/workspace-hack:",
            file=sys.stderr,
        )
        print("\n".join(drift), file=sys.stderr)
        return 1
    shared = sum(1 for n in names if sum(n in t for t in trees.values()) > 1)
    agree = f"the {len(BINDINGS)} bindings agree on the features of the {shared} crates they share"
    print(f"features: {agree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
