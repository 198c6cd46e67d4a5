"""Shared set-up: cheap clients of both kinds, `resolve` to run a call of
either kind, and the test services (PostgreSQL, Redis, an S3-compatible
server) by the services rule:
skipped when unreachable, failing instead under DOORWARD_REQUIRE_SERVICES=1."""

from __future__ import annotations

import functools
import inspect
import os
import secrets
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, TypeVar, Union, cast

import pytest
from aiosmtpd.controller import Controller
from smtp_sink import Sink, free_port

import doorward

SECRET = "python-test-secret-of-at-least-32-bytes!"
PASSWORD = "correct horse battery staple"
KEYS = Path(__file__).resolve().parents[2] / "tests" / "keys"
#: Cheap argon2: the tests exercise behaviour, not hashing cost.
CHEAP: dict[str, Any] = {
    "database_url": "memory://",
    "jwt_secret": SECRET,
    "argon2_memory_kib": 64,
    "argon2_iterations": 1,
}
POSTGRES_URL = os.environ.get(
    "DOORWARD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("DOORWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379")
S3_ENDPOINT = os.environ.get("DOORWARD_TEST_S3_ENDPOINT", "http://127.0.0.1:9000")

Client = Union[doorward.Doorward, doorward.AsyncDoorward]
Opener = Callable[..., Client]
#: What `login` and `complete_sign_in` answer.
LoginResult = Union[doorward.TokenPair, doorward.MfaChallenge]
T = TypeVar("T")


async def resolve(value: Union[T, Awaitable[T]]) -> T:
    """The result of a sync client's call, or of an async one's awaitable."""
    if inspect.isawaitable(value):
        return cast(T, await value)
    return value


def tokens(result: object) -> doorward.TokenPair:
    """The tokens of a login that asked for no second factor."""
    assert isinstance(result, doorward.TokenPair), f"expected tokens, got {result!r}"
    return result


async def signed_in(value: Union[LoginResult, Awaitable[LoginResult]]) -> doorward.TokenPair:
    """`resolve` for a login (or sign-in) of an account without a second
    factor: its tokens."""
    return tokens(await resolve(value))


def open_client(kind: str, **config: Any) -> Client:
    """A `Doorward` (kind "sync") or `AsyncDoorward` ("async") on the cheap
    in-memory defaults, with `config` laid over them."""
    if kind == "sync":
        return doorward.Doorward({**CHEAP, **config})
    return doorward.AsyncDoorward({**CHEAP, **config})


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


@pytest.fixture
def make(kind: str) -> Opener:
    """Opens clients of this test's kind: `make(access_ttl=60)`."""
    return functools.partial(open_client, kind)


@pytest.fixture
def client(make: Opener) -> Client:
    return make()


# --- services ---------------------------------------------------------------


def unavailable(service: str, url: str, why: str) -> NoReturn:
    message = f"{service} not reachable at {url}: {why}"
    if os.environ.get("DOORWARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required by DOORWARD_REQUIRE_SERVICES=1, but {message}", pytrace=False)
    pytest.skip(message)


@functools.cache
def _postgres_problem() -> Optional[str]:
    """Why PostgreSQL cannot be used (asked once per run), or None."""
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except Exception as err:  # ImportError included: psycopg is what creates schemas
        return f"{type(err).__name__}: {err}"
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema `dw_py_<unixtime>_<random>`, as a database URL whose
    connections use it. Schemas of runs over an hour old are dropped."""
    problem = _postgres_problem()
    if problem is not None:
        unavailable("PostgreSQL", POSTGRES_URL, problem)
    import psycopg
    from psycopg import sql

    now = int(time.time())
    schema = f"dw_py_{now}_{secrets.token_hex(8)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'dw\\_py\\_%'"
        ).fetchall()
        for (name,) in rows:
            born = name.split("_")[2]
            if born.isdigit() and int(born) < now - 3600:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-c%20search_path%3D{schema}"
    try:  # best effort: a schema left behind goes with the next run's sweep
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SET lock_timeout = '2s'")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    except psycopg.Error:
        pass


@functools.cache
def _redis_problem() -> Optional[str]:
    try:
        import redis

        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2) as r:
            r.ping()
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


@pytest.fixture
def redis_config() -> Iterator[dict[str, Any]]:
    """`redis_url` and a `redis_prefix` of this test's own (its keys are
    deleted afterwards)."""
    problem = _redis_problem()
    if problem is not None:
        unavailable("Redis", REDIS_URL, problem)
    import redis

    prefix = f"dw_py_{secrets.token_hex(8)}:"
    yield {"redis_url": REDIS_URL, "redis_prefix": prefix}
    with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2) as r:
        for key in r.scan_iter(match=f"{prefix}*", count=500):
            r.delete(key)


@pytest.fixture
def s3_config() -> dict[str, Any]:
    """The `files_*` keys for a fresh bucket of this test's own on the
    S3-compatible server (moto, which accepts any credentials)."""
    import http.client
    import urllib.parse

    endpoint = urllib.parse.urlsplit(S3_ENDPOINT)
    bucket = f"dw-py-{secrets.token_hex(8)}"
    try:
        conn = http.client.HTTPConnection(endpoint.netloc, timeout=5)
        conn.request("PUT", f"/{bucket}")
        response = conn.getresponse()
        response.read()
        conn.close()
    except OSError as err:
        unavailable("an S3-compatible server", S3_ENDPOINT, f"{type(err).__name__}: {err}")
    assert response.status == 200, f"the S3 server refused to create a bucket: {response.status}"
    return {
        "files_url": f"s3://{bucket}",
        "files_s3_endpoint": S3_ENDPOINT,
        "files_s3_region": "us-east-1",
        "files_s3_access_key_id": "test-access-key",
        "files_s3_secret_access_key": "test-secret-key",
        "files_s3_allow_http": True,
    }


# --- A local SMTP server (aiosmtpd) ---------------------------------------------


@pytest.fixture
def sink_port() -> int:
    return free_port()


@pytest.fixture
def start_sink(sink_port: int) -> Iterator[Callable[[], Sink]]:
    """Starts an SMTP server on `sink_port` when called; stopped after the
    test."""
    controllers: list[Controller] = []

    def start() -> Sink:
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()
