"""What the framework tests share: a cheap in-memory doorward, two users
of it, the errors and headers the integrations answer, and a reader of
their error bodies."""

import asyncio
import inspect
from typing import Any, Callable, Union

import doorward

SECRET = "test-secret-test-secret-test-secret!"
PASSWORD = "correct horse battery"


def config() -> dict[str, Any]:
    """An in-memory doorward with cheap password hashing."""
    return {
        "database_url": "sqlite::memory:",
        "jwt_secret": SECRET,
        "argon2_memory_kib": 64,
        "argon2_iterations": 1,
    }


def configure_django() -> None:
    """Django configured once per process (unless something already did):
    for the Django integration's tests, and for the import tests, which make
    password hashes with Django's hashers."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DOORWARD=config(),
            ALLOWED_HOSTS=["testserver"],
        )
        django.setup()


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` from synchronous test code, for a Doorward's method or
    an AsyncDoorward's (which needs a running loop: one of its own here)."""

    async def run() -> Any:
        result = fn(*args)
        return await result if inspect.isawaitable(result) else result

    return asyncio.run(run())


class Users:
    """Two users of one doorward: ``plain`` (role user) and ``admin``."""

    def __init__(self, dw: Union[doorward.Doorward, doorward.AsyncDoorward]) -> None:
        plain: doorward.Registration = call(
            dw.register_user, "plain", "plain@example.com", PASSWORD
        )
        admin: doorward.Registration = call(dw.register_user, "boss", "boss@example.com", PASSWORD)
        assert call(dw.roles.grant, admin.user.id, "admin")
        self.plain = plain
        self.admin = admin

    @staticmethod
    def bearer(reg: doorward.Registration) -> dict[str, str]:
        return {"Authorization": f"Bearer {reg.tokens.access_token}"}


def assert_error(status: int, body: Any, expected_status: int, code: str) -> dict[str, Any]:
    assert status == expected_status, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    return error


FAILURES: dict[str, doorward.DoorwardError] = {
    "not_found": doorward.NotFoundError("no such user"),
    "storage": doorward.StorageError("could not connect to db.internal.example"),
    "rate_limited": doorward.RateLimitedError("too many attempts", retry_after=2.5),
}


#: Authorization headers without a usable bearer token, and the
#: WWW-Authenticate of their 401 (RFC 6750: error="invalid_token" only for a
#: token that was sent and refused).
NO_VALID_TOKEN = [
    ({}, "Bearer"),
    ({"Authorization": ""}, "Bearer"),
    ({"Authorization": "Bearer"}, "Bearer"),
    ({"Authorization": "Basic am9objpwdw=="}, "Bearer"),
    ({"Authorization": "Bearer not-a-jwt"}, 'Bearer error="invalid_token"'),
]
