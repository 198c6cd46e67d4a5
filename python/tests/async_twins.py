"""The ``Async*`` half of ``doorward/_native.pyi``, generated from its sync half.

The native module defines each operation once and builds a blocking class and
an awaitable one from it (``twins!`` in ``bindings/python/src/twins.rs``); the
stub follows suit. Every sync class whose ``Async`` twin ``__all__`` lists gets
that twin here: the same methods, with the same parameters and docstrings, each
returning an ``Awaitable`` of the sync result. Properties and ``__new__`` keep
their results, with the twinned classes renamed (``Users`` becomes
``AsyncUsers``). The few methods whose twin differs are listed below, each with
the reason.

After changing a sync class, regenerate (from the repository root)::

    .venv/bin/python python/tests/async_twins.py

``tests/test_stubs.py`` fails until the stub matches.
"""

from __future__ import annotations

import ast
import copy
import sys
import textwrap
from pathlib import Path

STUB = Path(__file__).resolve().parents[1] / "doorward" / "_native.pyi"
MARKER = "# --- Generated from the classes above by python/tests/async_twins.py: do not edit. ---"
#: The stub's line length (``[tool.ruff]`` in pyproject.toml); signatures are
#: laid out as ``ruff format`` lays them out, so the check and ruff agree.
LINE = 100

#: Methods whose twin stays synchronous, and why.
SYNCHRONOUS = {
    ("Doorward", "jwks"): "it reads keys held in memory",
    ("Doorward", "require_aal"): "it reads the principal alone",
    ("Doorward", "verify_token_sync"): "it answers from memory or raises WouldBlockError",
    ("Doorward", "can_sync"): "it answers from memory or raises WouldBlockError",
    ("Doorward", "require_recent_auth"): "it reads the principal alone",
    ("Mail", "sent"): "it reads the in-memory mailer",
    ("OAuth", "providers"): "it reads the configuration",
}

#: Methods whose twin differs by more than its result, and how: written out.
WRITTEN = {
    ("Events", "stream"): (
        "returns an :class:`AsyncEventStream`, which subscribes on entering an"
        " ``async with`` block and has no ``timeout``",
        '''    def stream(
        self, types: Optional[Sequence[str]] = None, name: Optional[str] = None
    ) -> AsyncEventStream:
        """Events committed while an ``async with`` block is open, as an async
        iterator: ``async with dw.events.stream(types=["UserRegistered"]) as events:``
        and then ``async for event in events: ...``.

        Args:
            types: Event type names to receive; all when None.
            name: Makes the subscriber durable, as for ``subscribe``.

        Raises:
            ValidationError: An unknown event type or a bad name (on entering
                the block).
            ConfigError: ``events_dispatch`` is off.
        """''',
    ),
}


class StubError(Exception):
    """The sync half cannot be mirrored as it stands."""


def exported(tree: ast.Module) -> list[str]:
    """The names of the stub's ``__all__``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
    raise StubError("the stub has no __all__ list")


def twinned(tree: ast.Module) -> list[ast.ClassDef]:
    """The sync classes with an ``Async`` twin, in the stub's order."""
    names = exported(tree)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    missing = [n for n in names if n.startswith("Async") and n[5:] not in classes]
    if missing:
        raise StubError(f"__all__ lists {missing} without their sync classes")
    return [c for c in classes.values() if f"Async{c.name}" in names]


class _Rename(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.renames.get(node.id, node.id), node.ctx)


def _docstring_node(body: list[ast.stmt], what: str) -> ast.Expr:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    raise StubError(f"{what} has no docstring")


class _Twin:
    """Writes the twin of one sync class."""

    def __init__(self, source: str, cls: ast.ClassDef, renames: dict[str, str]) -> None:
        self.source = source
        self.cls = cls
        self.renames = renames

    def segment(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node)
        if text is None:
            raise StubError(f"no source for a node of {self.cls.name}")
        return text

    def annotation(self, node: ast.expr) -> str:
        return ast.unparse(_Rename(self.renames).visit(copy.deepcopy(node)))

    def parameter(self, arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg
        if arg.annotation is not None:
            text += f": {self.annotation(arg.annotation)}"
        if default is not None:
            text += f" = {self.segment(default)}" if arg.annotation else f"={self.segment(default)}"
        return text

    def parameters(self, a: ast.arguments) -> list[str]:
        positional = a.posonlyargs + a.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
        defaults += a.defaults
        out = []
        for i, (arg, default) in enumerate(zip(positional, defaults)):
            out.append(self.parameter(arg, default))
            if a.posonlyargs and i == len(a.posonlyargs) - 1:
                out.append("/")
        if a.vararg is not None:
            out.append("*" + self.parameter(a.vararg, None))
        elif a.kwonlyargs:
            out.append("*")
        out += [self.parameter(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults)]
        if a.kwarg is not None:
            out.append("**" + self.parameter(a.kwarg, None))
        return out

    def signature(self, name: str, params: list[str], result: str) -> list[str]:
        """``def`` as ruff lays it out: on one line if it fits, else the
        parameters on one line of their own, else one per line."""
        joined = ", ".join(params)
        one = f"    def {name}({joined}) -> {result}:"
        if len(one) <= LINE:
            return [one]
        if len(f"        {joined}") <= LINE:
            return [f"    def {name}(", f"        {joined}", f"    ) -> {result}:"]
        return [f"    def {name}(", *(f"        {p}," for p in params), f"    ) -> {result}:"]

    def method(self, node: ast.stmt) -> list[str]:
        if not isinstance(node, ast.FunctionDef):
            raise StubError(f"{self.cls.name} holds something other than methods")
        key = (self.cls.name, node.name)
        if key in WRITTEN:
            return WRITTEN[key][1].split("\n")
        decorators = [f"    @{self.segment(d)}" for d in node.decorator_list]
        plain = any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
        if node.returns is None:
            raise StubError(f"{self.cls.name}.{node.name} has no return annotation")
        result = self.annotation(node.returns)
        if not (plain or node.name == "__new__" or key in SYNCHRONOUS):
            result = f"Awaitable[{result}]"
        params = self.parameters(node.args)
        doc = self.segment(_docstring_node(node.body, f"{self.cls.name}.{node.name}"))
        return [*decorators, *self.signature(node.name, params, result), f"        {doc}"]

    def docstring(self) -> list[str]:
        """The sync class's summary, then what makes this one its twin."""
        sync_doc = ast.get_docstring(self.cls) or ""
        summary = sync_doc.split("\n\n")[0]
        twin = (
            f"The awaitable twin of :class:`{self.cls.name}`, for asyncio: each method"
            " returns an awaitable of what the method of the same name there returns."
        )
        for (cls, name), reason in SYNCHRONOUS.items():
            if cls == self.cls.name:
                twin += f" ``{name}`` stays synchronous: {reason}."
        for (cls, name), (how, _) in WRITTEN.items():
            if cls == self.cls.name:
                twin += f" ``{name}`` {how}."
        lines = [*summary.split("\n"), "", *textwrap.wrap(twin, 76)]
        body = "\n".join(f"    {line}" if line else "" for line in lines)
        return [f'    """{body[4:]}', '    """']

    def lines(self) -> list[str]:
        _docstring_node(self.cls.body, self.cls.name)
        out = [f"@{self.segment(d)}" for d in self.cls.decorator_list]
        out += [f"class {self.renames[self.cls.name]}:", *self.docstring(), ""]
        for node in self.cls.body[1:]:
            out += self.method(node)
        return out


def render(source: str) -> str:
    """The stub with its generated half made from ``source``'s sync half."""
    head = source.split(f"\n{MARKER}\n")[0].rstrip("\n")
    tree = ast.parse(head)
    classes = twinned(tree)
    renames = {c.name: f"Async{c.name}" for c in classes}
    known = {(c.name, n.name) for c in classes for n in c.body if isinstance(n, ast.FunctionDef)}
    stale = [k for k in [*SYNCHRONOUS, *WRITTEN] if k not in known]
    if stale:
        raise StubError(f"async_twins.py lists methods the stub does not have: {stale}")
    twins = "\n\n".join("\n".join(_Twin(head, c, renames).lines()) for c in classes)
    return f"{head}\n\n{MARKER}\n\n{twins}\n"


def main(argv: list[str]) -> int:
    """Rewrite the stub, or with ``--check`` say whether it is up to date."""
    current = STUB.read_text(encoding="utf-8")
    wanted = render(current)
    if current == wanted:
        return 0
    if "--check" in argv:
        print(f"{STUB} is out of date: run python/tests/async_twins.py", file=sys.stderr)
        return 1
    STUB.write_text(wanted, encoding="utf-8")
    print(f"regenerated the Async classes of {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
