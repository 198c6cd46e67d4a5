"""doorward against PyJWT (token verification) and argon2-cffi (hashing).

Run with a release build of the package::

    pip install ./python pyjwt[crypto] argon2-cffi
    python python/bench/compare.py

It first checks interoperability (tokens made by each verify in the other,
hashes made by each verify in the other), then prints a Markdown table of
throughput, best of three timed runs per operation. Both sides verify the
same tokens with the same checks: signature, ``iss``, ``aud``, ``exp``,
``nbf``; doorward's ``verify_token`` runs with ``stateless_verify`` so no
session lookup is timed (that is a database cost, not a JWT one).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import argon2
import jwt

import doorward

KEYS = Path(__file__).resolve().parents[2] / "tests" / "keys"
SECRET = "benchmark-secret-of-at-least-32-bytes!"
PASSWORD = "correct horse battery staple"


def rate(op: Callable[[], Any], seconds: float = 1.5) -> float:
    """Operations per second: the best of three runs of ``seconds`` each."""
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(16):
                op()
            n += 16
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def open_doorward(**keys: Any) -> doorward.Doorward:
    return doorward.Doorward(
        database_url="memory://",
        stateless_verify=True,
        argon2_memory_kib=64,
        argon2_iterations=1,
        **keys,
    )


def token_case(
    name: str, dw: doorward.Doorward, sign_key: Any, verify_key: Any, alg: str
) -> tuple[str, float, float]:
    """Interop both ways, then verification throughput of doorward and PyJWT."""
    user = dw.users.create(f"bench{name.lower()}", f"bench-{name.lower()}@example.com", PASSWORD)
    token = dw.issue_tokens(user.id).access_token

    def pyjwt_verify(t: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            t,
            verify_key,
            algorithms=[alg],
            audience="doorward",
            issuer="doorward",
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )
        return claims

    claims = pyjwt_verify(token)  # doorward's token verifies in PyJWT
    header = jwt.get_unverified_header(token)
    foreign = jwt.encode(
        claims, sign_key, algorithm=alg, headers={"typ": "at+jwt", "kid": header["kid"]}
    )
    assert dw.verify_token(foreign).user_id == user.id  # PyJWT's token verifies in doorward

    ours = rate(lambda: dw.verify_token(token))
    theirs = rate(lambda: pyjwt_verify(token))
    return name, ours, theirs


def main() -> int:
    rows: list[tuple[str, str, str, str, str]] = []

    hs = open_doorward(jwt_secret=SECRET)
    name, ours, theirs = token_case("HS256", hs, SECRET, SECRET, "HS256")
    rows.append(
        (
            f"verify {name}",
            f"{ours:,.0f}/s",
            f"{theirs:,.0f}/s (PyJWT)",
            f"{ours / theirs:.1f}x",
            ">= 3x",
        )
    )

    private = (KEYS / "ed25519.pem").read_text()
    public = (KEYS / "ed25519.pub.pem").read_text()
    ed = open_doorward(jwt_algorithm="EdDSA", jwt_private_key=private, jwt_public_key=public)
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
        load_pem_public_key,
    )

    name, ours, theirs = token_case(
        "EdDSA",
        ed,
        load_pem_private_key(private.encode(), None),
        load_pem_public_key(public.encode()),
        "EdDSA",
    )
    rows.append(
        (
            f"verify {name}",
            f"{ours:,.0f}/s",
            f"{theirs:,.0f}/s (PyJWT)",
            f"{ours / theirs:.1f}x",
            ">= 3x",
        )
    )

    ours_hasher = doorward.PasswordHasher(memory_kib=19456, iterations=2, parallelism=1)
    cffi = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    ours_hash, cffi_hash = ours_hasher.hash(PASSWORD), cffi.hash(PASSWORD)
    assert cffi.verify(ours_hash, PASSWORD)  # doorward's hash verifies in argon2-cffi
    assert ours_hasher.verify(PASSWORD, cffi_hash)  # and argon2-cffi's in doorward
    for what, ours_op, cffi_op in [
        ("hash", lambda: ours_hasher.hash(PASSWORD), lambda: cffi.hash(PASSWORD)),
        (
            "verify",
            lambda: ours_hasher.verify(PASSWORD, ours_hash),
            lambda: cffi.verify(cffi_hash, PASSWORD),
        ),
    ]:
        ours_ms = 1000 / rate(ours_op, 3.0)
        cffi_ms = 1000 / rate(cffi_op, 3.0)
        rows.append(
            (
                f"argon2id {what} (m=19456, t=2, p=1)",
                f"{ours_ms:.2f} ms",
                f"{cffi_ms:.2f} ms (argon2-cffi)",
                f"{ours_ms / cffi_ms:.2f}x the time",
                "<= 1.25x",
            )
        )

    from importlib.metadata import version

    print(
        f"Python {sys.version.split()[0]}, doorward {doorward.__version__}, "
        f"PyJWT {version('pyjwt')}, argon2-cffi {version('argon2-cffi')}, {os.cpu_count()} cores\n"
    )
    print("| operation | doorward | other | ratio | aim |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
