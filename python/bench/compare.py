"""doorward against PyJWT (token verification) and argon2-cffi (hashing).

Run with a release build of the package::

    pip install ./python pyjwt[crypto] argon2-cffi
    python python/bench/compare.py [--quick] [--json PATH]

It first checks interoperability (tokens made by each verify in the other,
hashes made by each verify in the other), then prints a Markdown table of
throughput, best of three timed runs per operation, with the aims:

- verify: ``Doorward.verify_token`` (the blocking class, which answers a
  stateless HS256 token on the calling thread) at least 15x PyJWT for HS256
  and 5x for EdDSA; ``AsyncDoorward.verify_token`` awaited is shown beside
  it. Each library is timed on one thread and on ``THREADS`` threads, and
  taken in its better mode: doorward checks an EdDSA signature with the GIL
  released, so threads add cores; PyJWT's check holds the GIL (timed, not
  assumed);
- argon2id hash at m=19456 KiB, t=2, p=1: at least 0.9x the speed of the
  fastest other library (argon2-cffi, the C reference).

Both sides verify the same tokens with the same checks: signature, ``iss``,
``aud``, ``exp``, ``nbf``; doorward runs with ``stateless_verify`` so no
session lookup is timed (that is a database cost, not a JWT one).
``--json PATH`` writes every measurement and the aims' rows (what
``scripts/bench`` puts in its table).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Awaitable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

import argon2
import jwt
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)

import doorward

KEYS = Path(__file__).resolve().parents[2] / "tests" / "keys"
SECRET = "benchmark-secret-of-at-least-32-bytes!"
PASSWORD = "correct horse battery staple"
RUNS = 3
#: Threads of the threaded mode: two per core, so a thread is always ready
#: to take the GIL while the others are in native code.
THREADS = 2 * (os.cpu_count() or 1)
M, T, P = 19456, 2, 1
TIMES = "\N{MULTIPLICATION SIGN}"


def calls_until(op: Callable[[], Any], deadline: float) -> int:
    """Calls of ``op``, 16 at a time, until ``deadline``."""
    n = 0
    while time.perf_counter() < deadline:
        for _ in range(16):
            op()
        n += 16
    return n


def rate(op: Callable[[], Any], seconds: float, threads: int = 1) -> float:
    """Operations per second of ``op`` called by ``threads`` threads at once
    (all of theirs together), the best of ``RUNS`` runs of ``seconds`` each."""
    best = 0.0
    for _ in range(RUNS):
        start = time.perf_counter()
        deadline = start + seconds
        if threads == 1:
            n = calls_until(op, deadline)
        else:
            counts = [0] * threads

            def work(i: int, counts: list[int] = counts, deadline: float = deadline) -> None:
                counts[i] = calls_until(op, deadline)

            pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            n = sum(counts)
        best = max(best, n / (time.perf_counter() - start))
    return best


async def rate_async(op: Callable[[], Awaitable[Any]], seconds: float) -> float:
    """``rate`` of an awaited call, one in flight, on the running loop."""
    best = 0.0
    for _ in range(RUNS):
        n, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(16):
                await op()
            n += 16
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def doorward_config(**keys: Any) -> dict[str, Any]:
    return {
        "database_url": "memory://",
        "stateless_verify": True,
        "argon2_memory_kib": 64,
        "argon2_iterations": 1,
        **keys,
    }


class TokenCase:
    """One algorithm: doorward's instance and token, and PyJWT's keys."""

    def __init__(self, alg: str, config: dict[str, Any], sign_key: Any, verify_key: Any):
        self.alg, self.config, self.verify_key = alg, config, verify_key
        self.dw = doorward.Doorward(**config)
        user = self.dw.users.create(
            f"bench{alg.lower()}", f"bench-{alg.lower()}@example.com", PASSWORD
        )
        self.user_id = user.id
        self.token = self.dw.issue_tokens(user.id).access_token

        claims = self.pyjwt_verify(self.token)  # doorward's token verifies in PyJWT
        header = jwt.get_unverified_header(self.token)
        foreign = jwt.encode(
            claims, sign_key, algorithm=alg, headers={"typ": "at+jwt", "kid": header["kid"]}
        )
        # PyJWT's token verifies in doorward, and both of doorward's roads agree.
        assert self.dw.verify_token(foreign).user_id == user.id
        assert self.dw.verify_token_sync(foreign).user_id == user.id
        assert self.dw.verify_token_sync(self.token).user_id == user.id
        print(f"interop {alg}: doorward -> PyJWT, PyJWT -> doorward: ok", file=sys.stderr)

    def pyjwt_verify(self, token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            self.verify_key,
            algorithms=[self.alg],
            audience="doorward",
            issuer="doorward",
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )
        return claims

    def async_rate(self, seconds: float) -> float:
        """``AsyncDoorward.verify_token`` awaited, one in flight."""

        async def run() -> float:
            adw = doorward.AsyncDoorward(**self.config)
            user = await adw.users.create("benchasync", "bench-async@example.com", PASSWORD)
            token = (await adw.issue_tokens(user.id)).access_token
            assert (await adw.verify_token(token)).user_id == user.id
            return await rate_async(lambda: adw.verify_token(token), seconds)

        return asyncio.run(run())


class Report:
    """The measurements of a run and the rows of the aims' table."""

    def __init__(self) -> None:
        self.measurements: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []

    def measured(self, operation: str, library: str, mode: str, ops: float) -> float:
        self.measurements.append(
            {"operation": operation, "library": library, "mode": mode, "ops_per_sec": ops}
        )
        print(f"  {operation} {library} ({mode}): {ops:,.1f} ops/s", file=sys.stderr)
        return ops

    def row(
        self,
        path: str,
        ours: str,
        peer: str,
        ratio: float,
        minimum: float | None,
        of: str = "",
        peer_rate: float | None = None,
    ) -> None:
        """``ratio`` is doorward's speed over the peer's; ``minimum`` the aim, if
        any; ``peer_rate`` the peer's operations a second, where the aim is a
        rate (what ``scripts/bench`` weighs against the hardware)."""
        digits = 1 if ratio >= 10 else 2
        self.rows.append(
            {
                "path": path,
                "doorward": ours,
                "peer": peer,
                "ratio": ratio,
                "ratio_text": f"{ratio:.{digits}f}{TIMES} the speed",
                "aim": "\N{EM DASH}"
                if minimum is None
                else f"\N{GREATER-THAN OR EQUAL TO} {minimum:g}{TIMES}{of}",
                "met": None if minimum is None else ratio >= minimum,
                "minimum": minimum,
                "peer_rate": peer_rate,
            }
        )


def verify_rows(report: Report, case: TokenCase, aim: float, seconds: float) -> None:
    operation, token = f"verify {case.alg}", case.token

    def best(library: str, call: str, op: Callable[[], Any]) -> tuple[float, str]:
        """The library in its better mode: one thread or ``THREADS``."""
        one = report.measured(operation, library, call, rate(op, seconds))
        many = report.measured(
            operation, library, f"{call}, {THREADS} threads", rate(op, seconds, THREADS)
        )
        return (one, "") if one >= many else (many, f", {THREADS} threads")

    ours, ours_mode = best("doorward", "Doorward.verify_token", lambda: case.dw.verify_token(token))
    theirs, theirs_mode = best("PyJWT", "jwt.decode", lambda: case.pyjwt_verify(token))
    report.row(
        f"verify {case.alg} from Python",
        f"{ours:,.0f}/s Doorward.verify_token{ours_mode}",
        f"{theirs:,.0f}/s PyJWT{theirs_mode}",
        ours / theirs,
        aim,
        peer_rate=theirs,
    )
    if case.alg == "HS256":
        awaited = report.measured(
            operation, "doorward", "AsyncDoorward.verify_token", case.async_rate(seconds)
        )
        report.row(
            f"verify {case.alg} from Python, asyncio",
            f"{awaited:,.0f}/s await AsyncDoorward.verify_token",
            f"{theirs:,.0f}/s PyJWT",
            awaited / theirs,
            None,
        )


def hash_rows(report: Report, seconds: float) -> None:
    ours_hasher = doorward.PasswordHasher(memory_kib=M, iterations=T, parallelism=P)
    cffi = argon2.PasswordHasher(time_cost=T, memory_cost=M, parallelism=P)
    ours_hash, cffi_hash = ours_hasher.hash(PASSWORD), cffi.hash(PASSWORD)
    assert ours_hash.startswith(f"$argon2id$v=19$m={M},t={T},p={P}$")
    assert cffi.verify(ours_hash, PASSWORD)  # doorward's hash verifies in argon2-cffi
    assert ours_hasher.verify(PASSWORD, cffi_hash)  # and argon2-cffi's in doorward
    assert not ours_hasher.verify("not the password", cffi_hash)
    print(f"interop argon2id m={M},t={T},p={P}: both ways ok", file=sys.stderr)
    ops: list[tuple[str, Callable[[], Any], Callable[[], Any], float | None]] = [
        ("hash", lambda: ours_hasher.hash(PASSWORD), lambda: cffi.hash(PASSWORD), 0.9),
        (
            "verify",
            lambda: ours_hasher.verify(PASSWORD, ours_hash),
            lambda: cffi.verify(cffi_hash, PASSWORD),
            None,
        ),
    ]
    for what, ours_op, cffi_op, aim in ops:
        operation = f"{what} argon2id m={M} t={T} p={P}"
        ours = report.measured(operation, "doorward", "1 in flight", rate(ours_op, seconds))
        theirs = report.measured(operation, "argon2-cffi", "1 in flight", rate(cffi_op, seconds))
        # argon2-cffi is the only other library here, so the fastest other one.
        report.row(
            f"argon2id {what} m={M} t={T} p={P} from Python",
            f"{1000 / ours:.2f} ms ({ours:.1f}/s)",
            f"{1000 / theirs:.2f} ms argon2-cffi",
            ours / theirs,
            aim,
            " the fastest",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, rougher numbers")
    parser.add_argument("--json", metavar="PATH", help="write the measurements and aims here")
    args = parser.parse_args()
    verify_s, hash_s = (0.3, 0.6) if args.quick else (1.5, 3.0)

    private = (KEYS / "ed25519.pem").read_text()
    public = (KEYS / "ed25519.pub.pem").read_text()
    hs256 = TokenCase("HS256", doorward_config(jwt_secret=SECRET), SECRET, SECRET)
    eddsa = TokenCase(
        "EdDSA",
        doorward_config(jwt_algorithm="EdDSA", jwt_private_key=private, jwt_public_key=public),
        load_pem_private_key(private.encode(), None),
        load_pem_public_key(public.encode()),
    )
    report = Report()
    verify_rows(report, hs256, 15.0, verify_s)
    verify_rows(report, eddsa, 5.0, verify_s)
    hash_rows(report, hash_s)

    about = (
        f"Python {platform.python_version()}, doorward {doorward.__version__}, "
        f"PyJWT {version('pyjwt')}, cryptography {version('cryptography')}, "
        f"argon2-cffi {version('argon2-cffi')}, {os.cpu_count()} cores, best of {RUNS} runs"
        + (" (--quick)" if args.quick else "")
    )
    print(f"{about}.\n")
    print("| path | doorward | peer | ratio | aim | |")
    print("|---|---|---|---|---|---|")
    for r in report.rows:
        verdict = "\N{EM DASH}" if r["met"] is None else "met" if r["met"] else "NOT met"
        cells = [r["path"], r["doorward"], r["peer"], r["ratio_text"], r["aim"], verdict]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        data = {
            "about": about,
            "quick": args.quick,
            "runs": RUNS,
            "measurements": report.measurements,
            "rows": report.rows,
        }
        Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
