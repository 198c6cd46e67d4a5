"""The shared corpora of `tests/vectors/` through the Python API: every case
must give the verdict recorded there, as it must in the Rust
(`crates/doorward/tests/vectors.rs`), Node and Kotlin suites.

Each corpus runs every one of its cases, collects the cases that differ and
fails once, naming each; the number of cases run is checked against the
corpus, so none is skipped silently. The sync client is enough: both
clients call the same core."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import doorward

if TYPE_CHECKING:
    from doorward._native import UserRow

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"
T = TypeVar("T")


def corpus(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text("utf-8"))
    return document


def open_doorward(doc: dict[str, Any], extra: Optional[dict[str, Any]] = None) -> doorward.Doorward:
    """A client on the corpus's `base_config` with `extra` laid over it: the
    corpora's keys are snake_case, as the client takes them."""
    return doorward.Doorward({**doc["base_config"], **(extra or {})})


def attempt(call: Callable[..., T], *args: Any) -> tuple[Optional[T], str]:
    """What `call(*args)` returned and "ok", or None and the stable code of
    the doorward error it raised. Any other exception (a TypeError, a panic
    that escaped the binding) is a difference in itself, so its verdict
    names it and matches no code."""
    try:
        return call(*args), "ok"
    except doorward.DoorwardError as err:
        return None, err.code
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # pyo3's PanicException is not an Exception
        return None, f"{type(err).__name__} (not a DoorwardError): {err}"


def agree(name: str, differences: list[str], run: int, doc: dict[str, Any]) -> None:
    """Every case ran, and none differed (all of them listed if any did)."""
    total = len(doc["cases"])
    assert run == total > 0, f"{name}: {run} of {total} cases run"
    print(f"{name}: {run} cases")  # shown with `pytest -s`
    assert not differences, f"{len(differences)} of {total} {name} vectors differ:\n" + "\n".join(
        differences
    )


def difference(
    name: str, case: dict[str, Any], expected: str, got: str, what: str = ""
) -> list[str]:
    """The line naming a differing case (`what` tells two checks of one
    case apart), or none."""
    if got == expected:
        return []
    return [f"{name}/{case['name']}{what}: expected {expected}, got {got}"]


def test_tokens() -> None:
    doc = corpus("tokens")
    # One verifier per configuration; they hold no state the cases change
    # (stateless_verify: no session lookup).
    verifiers = {name: open_doorward(doc, extra) for name, extra in doc["configs"].items()}
    differences: list[str] = []
    run = 0
    for case in doc["cases"]:
        principal, got = attempt(verifiers[case["config"]].verify_token, case["token"])
        # An accepted token must also speak for the user and session it names.
        if principal is not None and (principal.user_id, principal.session_id) != (
            case.get("user_id"),
            case.get("session_id"),
        ):
            got = f"ok for user {principal.user_id!r}, session {principal.session_id!r}"
        differences += difference("tokens", case, case["expect"], got)
        run += 1
    assert run >= 40
    agree("tokens", differences, run, doc)


def through_an_account(doc: dict[str, Any], case: dict[str, Any]) -> str:
    """The hash imported into a fresh instance and logged in with: the
    row's failure code if the import refuses it, else the login's verdict.
    The corpus's `config` adds what logging in needs (a signing key)."""
    dw = open_doorward(doc, doc["config"])
    row: UserRow = {
        "email": "vector@example.com",
        "username": "vector",
        "password_hash": case["hash"],
    }
    report, got = attempt(dw.users.import_users, [row])
    if report is None:
        return f"import_users raised {got}"
    if report.failed:
        return report.failed[0].code
    return attempt(dw.login, "vector", case["password"])[1]


def test_passwords() -> None:
    doc = corpus("passwords")
    # Any parameters do: they decide only whether a match asks for a rehash.
    hasher = doorward.PasswordHasher(memory_kib=64, iterations=1, parallelism=1, concurrency=1)
    differences: list[str] = []
    run = 0
    for case in doc["cases"]:
        matched, got = attempt(hasher.verify, case["password"], case["hash"])
        if matched is not None:
            got = "true" if matched else "false"
        differences += difference("passwords", case, case["expect"], got)
        login = through_an_account(doc, case)
        differences += difference("passwords", case, case["login"], login, " (login)")
        run += 1
    agree("passwords", differences, run, doc)


def test_permissions() -> None:
    doc = corpus("permissions")
    dw = open_doorward(doc)
    for role in doc["roles"]:
        dw.roles.create(role["name"], role["permissions"])
    ids: dict[str, str] = {}
    for user in doc["users"]:
        name = user["username"]
        created = dw.users.create(name, f"{name}@example.com", "correct horse battery staple")
        for role in user["roles"]:
            dw.roles.grant(created.id, role)
        ids[name] = created.id
    differences: list[str] = []
    run = 0
    for case in doc["cases"]:
        allowed, got = attempt(dw.can, ids[case["user"]], case["permission"])
        if allowed is not None:
            got = "true" if allowed else "false"
        differences += difference("permissions", case, case["expect"], got)
        run += 1
    assert run == 500
    agree("permissions", differences, run, doc)


def test_validation() -> None:
    doc = corpus("validation")
    differences: list[str] = []
    run = 0
    for case in doc["cases"]:
        # A fresh instance each, so one case's account cannot collide with
        # another's; the corpus's `config` adds a signing key.
        dw = open_doorward(doc, doc["config"])
        _, got = attempt(dw.register_user, case["username"], case["email"], case["password"])
        differences += difference("validation", case, case["expect"], got)
        run += 1
    agree("validation", differences, run, doc)


def test_config() -> None:
    doc = corpus("config")
    differences: list[str] = []
    run = 0
    # All of them, "typed": false included: a dict can say anything.
    for case in doc["cases"]:
        _, got = attempt(open_doorward, doc, case["config"])
        differences += difference("config", case, case["expect"], got)
        run += 1
    agree("config", differences, run, doc)
