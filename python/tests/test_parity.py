"""What the Python package exports against tests/api.json, the manifest of
public operations that every language's suite checks its own surface with
(its `about` says how). Both halves are checked, so an Async* class cannot
drift from its sync twin either: each must have exactly the operations the
manifest gives Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import CHEAP

import doorward

MANIFEST: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "tests" / "api.json").read_text()
)
APIS: dict[str, Any] = MANIFEST["apis"]


def has(api: str, operation: Optional[str] = None) -> bool:
    """Whether Python has `operation` of `api` (or `api` itself)."""
    for d in MANIFEST["differences"]:
        applies = d["api"] == api and d.get("operation") in (None, operation)
        if applies and "python" not in d["in"]:
            return False
    return True


def expected(api: str) -> set[str]:
    """The Python names of `api`: its operations Python has, and on the
    root its sub-APIs. Constructors are each language's own way to build
    (Doorward(config) here), not attributes."""
    names = {op for op in APIS[api]["operations"] if has(api, op)}
    if APIS[api]["reached"] == "root":
        subs = {name for name, spec in APIS.items() if spec["reached"] == "accessor"}
        names |= {name for name in subs if has(name)}
    return names


#: Class names that are not the api's name in title case: OAuth is spelled
#: as the protocol is (and as the core's type is).
CLASS_NAMES = {"oauth": "OAuth"}


def class_name(api: str) -> str:
    return CLASS_NAMES.get(api) or "".join(part.title() for part in api.split("_"))


def surfaces() -> list[tuple[str, str]]:
    """(client kind, api) for each class the manifest gives Python."""
    out = []
    for api, spec in APIS.items():
        if not has(api):
            continue
        if spec["reached"] in ("root", "accessor"):
            out += [("sync", api), ("async", api)]
        else:
            out.append(("standalone", api))
    return out


def python_class(kind: str, api: str) -> type:
    if kind == "standalone":
        name = class_name(api)
        cls = getattr(doorward, name, None)
        assert isinstance(cls, type), f"doorward.{name} is missing (tests/api.json: {api})"
        return cls
    dw = doorward.Doorward(CHEAP) if kind == "sync" else doorward.AsyncDoorward(CHEAP)
    if api == "doorward":
        return type(dw)
    assert hasattr(dw, api), f"{type(dw).__name__}.{api} is missing (a sub-API in tests/api.json)"
    return type(getattr(dw, api))


@pytest.mark.parametrize(("kind", "api"), surfaces())
def test_each_class_has_the_operations_of_the_manifest(kind: str, api: str) -> None:
    cls = python_class(kind, api)
    want = expected(api)
    missing = sorted(name for name in want if not hasattr(cls, name))
    extra = sorted(name for name in dir(cls) if not name.startswith("_") and name not in want)
    assert not missing, (
        f"{cls.__name__} lacks {missing}: tests/api.json lists them for Python "
        f"(add them to the binding, or a difference with its reason)"
    )
    assert not extra, (
        f"{cls.__name__} has {extra}, which tests/api.json does not give Python "
        f"(list them in apis.{api}.operations, with a difference if other languages lack them)"
    )


def test_every_class_the_manifest_names_is_exported() -> None:
    exported = {name for name in dir(doorward) if isinstance(getattr(doorward, name), type)}
    for kind, api in surfaces():
        name = class_name(api)
        assert name in exported, f"doorward.{name} ({api}) is not exported"
        if kind != "standalone":
            assert f"Async{name}" in exported, f"doorward.Async{name} ({api}) is not exported"
