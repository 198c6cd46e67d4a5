"""The stub of the native module: documented throughout, its ``Async*`` half
generated from its sync half (``async_twins.py``), and the native module's
own twins alike: the same methods and parameters, the async ones returning
awaitables of what the sync ones return. ``mypy.stubtest`` (scripts/test)
checks the stub against the module."""

from __future__ import annotations

import ast
import difflib
import inspect
from typing import Any

import async_twins
from conftest import CHEAP

import doorward
from doorward import _native

#: Documented by their class (``compared and hashed by value``).
_UNDOCUMENTED = {"__eq__", "__hash__"}


def _stub() -> str:
    return async_twins.STUB.read_text(encoding="utf-8")


def _twins() -> list[str]:
    """The sync classes with an ``Async`` twin, by the stub."""
    return [c.name for c in async_twins.twinned(ast.parse(_stub()))]


def test_the_async_half_of_the_stub_is_generated_from_the_sync_half() -> None:
    current = _stub()
    wanted = async_twins.render(current)
    diff = "".join(
        list(
            difflib.unified_diff(
                wanted.splitlines(keepends=True),
                current.splitlines(keepends=True),
                "generated",
                "_native.pyi",
            )
        )[:60]
    )
    assert current == wanted, (
        "the Async classes of doorward/_native.pyi differ from what its sync classes make;"
        f" edit the sync class and run `.venv/bin/python python/tests/async_twins.py`:\n{diff}"
    )


def test_every_class_method_and_function_of_the_stub_has_a_docstring() -> None:
    missing = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                name = f"{prefix}{node.name}"
                if node.name not in _UNDOCUMENTED and ast.get_docstring(node) is None:
                    missing.append(name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{name}.")

    tree = ast.parse(_stub())
    assert ast.get_docstring(tree), "the stub has a module docstring"
    visit(tree.body, "")
    assert missing == [], f"without a docstring in doorward/_native.pyi: {missing}"


def test_the_native_module_has_the_twins_the_stub_has() -> None:
    native = {n[len("Async") :] for n in dir(_native) if n.startswith("Async")}
    assert sorted(native) == sorted(_twins())


def _members(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_each_native_async_class_has_the_methods_and_parameters_of_its_sync_twin() -> None:
    for name in _twins():
        sync, twin = getattr(_native, name), getattr(_native, f"Async{name}")
        assert _members(twin) == _members(sync), name
        for member in sorted(_members(sync)):
            if (name, member) in async_twins.WRITTEN:
                continue
            sync_attr, twin_attr = getattr(sync, member), getattr(twin, member)
            assert type(twin_attr) is type(sync_attr), f"{name}.{member}"
            if callable(sync_attr):
                assert inspect.signature(twin_attr) == inspect.signature(sync_attr), (
                    f"Async{name}.{member} takes what {name}.{member} takes"
                )


def _pairs(dw: doorward.Doorward, adw: doorward.AsyncDoorward) -> dict[str, tuple[Any, Any]]:
    """Each twinned class's sync and async object, reached from the clients."""
    twins = set(_twins())
    pairs: dict[str, tuple[Any, Any]] = {"Doorward": (dw, adw)}
    for attr in _members(type(dw)):
        value = getattr(dw, attr)
        if type(value).__name__ in twins:
            pairs[type(value).__name__] = (value, getattr(adw, attr))
    assert sorted(pairs) == sorted(twins), "every twin is a property of the client"
    return pairs


def _without_arguments(method: Any) -> bool:
    parameters = inspect.signature(method).parameters.values()
    return all(p.default is not p.empty or p.kind is p.VAR_KEYWORD for p in parameters)


async def test_async_methods_return_awaitables_of_what_their_sync_twins_return() -> None:
    # Every method callable without arguments, called on both clients: the
    # async one's awaitable gives a result of the sync one's type.
    config = {**CHEAP, "mail_url": "memory://"}
    pairs = _pairs(doorward.Doorward(config), doorward.AsyncDoorward(config))
    called = []
    for name, (sync, twin) in pairs.items():
        for member in sorted(_members(type(sync))):
            key = (name, member)
            method = getattr(sync, member)
            if key in async_twins.WRITTEN or not inspect.isroutine(method):
                continue
            if not _without_arguments(method):
                continue
            expected = method()
            result = getattr(twin, member)()
            if key not in async_twins.SYNCHRONOUS:
                assert inspect.isawaitable(result), f"Async{name}.{member}() is awaitable"
                result = await result
            assert type(result) is type(expected), f"Async{name}.{member}() gives {name}'s type"
            called.append(f"{name}.{member}")
    assert {"Doorward.jwks", "Users.list", "Events.flush", "Mail.sent"} <= set(called), called
