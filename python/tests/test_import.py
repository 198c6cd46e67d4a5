"""Accounts in bulk: `users.import_users`, `users.export_users` and
`users.search`, on both clients.

Every imported hash is made here, at test time, by the library its format
comes from (bcrypt, Django's hashers, hashlib, argon2-cffi): the account
logs in with it, a wrong password is refused, and the first login replaces
it with argon2id."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, cast

import argon2
import bcrypt
import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in
from django.contrib.auth import hashers
from django.test import override_settings
from frameworks import configure_django

import doorward

if TYPE_CHECKING:
    from doorward._native import UserRow

# --- Hashes made by the systems people move from ------------------------------


class CheapPBKDF2(hashers.PBKDF2PasswordHasher):  # type: ignore[misc]
    iterations = 1000


class CheapPBKDF2SHA1(hashers.PBKDF2SHA1PasswordHasher):  # type: ignore[misc]
    iterations = 1000


class CheapBCryptSHA256(hashers.BCryptSHA256PasswordHasher):  # type: ignore[misc]
    rounds = 4


class CheapBCrypt(hashers.BCryptPasswordHasher):  # type: ignore[misc]
    rounds = 4


class CheapScrypt(hashers.ScryptPasswordHasher):  # type: ignore[misc]
    work_factor = 2**10


class CheapArgon2(hashers.Argon2PasswordHasher):  # type: ignore[misc]
    time_cost = 1
    memory_cost = 64
    parallelism = 1


#: Django's hashers, cheap, as a project's settings list them.
DJANGO_HASHERS = [
    f"{__name__}.{cls.__name__}"
    for cls in (
        CheapPBKDF2,
        CheapPBKDF2SHA1,
        CheapBCryptSHA256,
        CheapBCrypt,
        CheapScrypt,
        CheapArgon2,
    )
]


def django(algorithm: str) -> Callable[[], str]:
    """Django's `make_password` with the hasher of that algorithm."""

    def make() -> str:
        configure_django()
        with override_settings(PASSWORD_HASHERS=DJANGO_HASHERS):
            return cast(str, hashers.make_password(PASSWORD, hasher=algorithm))

    return make


def b64(data: bytes) -> str:
    """Standard base64 without padding, as the `$scrypt$` string has it."""
    return base64.b64encode(data).decode().rstrip("=")


def hashlib_scrypt() -> str:
    """The `$scrypt$ln=..,r=..,p=..$salt$hash` string (passlib's), by hashlib."""
    salt = os.urandom(16)
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
    return f"$scrypt$ln=10,r=8,p=1${b64(salt)}${b64(key)}"


def argon2i() -> str:
    """An argon2 variant other than the one doorward makes."""
    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=argon2.Type.I)
    return hasher.hash(PASSWORD)


#: Each format by name: how to make a hash of PASSWORD, and how it starts.
FORMATS: dict[str, tuple[Callable[[], str], str]] = {
    "bcrypt $2b$": (
        lambda: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "$2b$04$",
    ),
    "bcrypt $2a$": (
        lambda: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode(),
        "$2a$04$",
    ),
    "django pbkdf2_sha256": (django("pbkdf2_sha256"), "pbkdf2_sha256$1000$"),
    "django pbkdf2_sha1": (django("pbkdf2_sha1"), "pbkdf2_sha1$1000$"),
    "django bcrypt_sha256": (django("bcrypt_sha256"), "bcrypt_sha256$$2b$04$"),
    "django bcrypt": (django("bcrypt"), "bcrypt$$2b$04$"),
    "django scrypt": (django("scrypt"), "scrypt$1024$"),
    "django argon2": (django("argon2"), "argon2$argon2id$"),
    "hashlib scrypt": (hashlib_scrypt, "$scrypt$ln=10,r=8,p=1$"),
    "argon2-cffi argon2i": (argon2i, "$argon2i$"),
}


async def exported(client: Client, *, with_hashes: bool = False) -> list[UserRow]:
    """Every account as import rows, a page of two at a time."""
    rows: list[UserRow] = []
    cursor = None
    while True:
        page = await resolve(client.users.export_users(cursor, 2, with_hashes=with_hashes))
        assert len(page) == len(page.items)
        rows += page.items
        cursor = page.next_cursor
        if cursor is None:
            return rows


async def stored_hash(client: Client, username: str) -> str:
    for row in await exported(client, with_hashes=True):
        if row.get("username") == username:
            return row.get("password_hash", "")
    raise AssertionError(f"no account {username}")


# --- Formats ------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
async def test_an_imported_hash_logs_in_and_is_replaced_by_argon2id(
    client: Client, name: str
) -> None:
    make, prefix = FORMATS[name]
    made = make()
    assert made.startswith(prefix), made[: len(prefix)]
    report = await resolve(
        client.users.import_users(
            [{"email": "ann@example.com", "username": "ann", "password_hash": made}]
        )
    )
    assert report.failed == [], report.failed
    assert [(u.index, u.username) for u in report.created] == [(0, "ann")]
    assert await stored_hash(client, "ann") == made  # kept as it is until a login

    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("ann", PASSWORD + "!"))
    assert await stored_hash(client, "ann") == made
    await signed_in(client.login("ann", PASSWORD))
    upgraded = await stored_hash(client, "ann")
    assert upgraded.startswith("$argon2id$"), upgraded[:12]
    await signed_in(client.login("ann@example.com", PASSWORD))
    assert await stored_hash(client, "ann") == upgraded
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("ann", PASSWORD + "!"))


HOSTILE = {
    "bcrypt cost 31": "$2b$31$" + "a" * 53,
    "pbkdf2 4e9 iterations": f"pbkdf2_sha256$4000000000$salt${b64(bytes(32))}=",
    "scrypt 16 GiB": f"$scrypt$ln=24,r=8,p=1${b64(bytes(16))}${b64(bytes(32))}",
    "no known format": "md5$salt$" + "0" * 32,
}


async def test_a_hostile_or_unknown_hash_is_refused_at_import(client: Client) -> None:
    assert len(HOSTILE["bcrypt cost 31"]) == 60
    rows: list[UserRow] = [
        {"email": f"user{i}@example.com", "password_hash": stored}
        for i, stored in enumerate(HOSTILE.values())
    ]
    report = await resolve(client.users.import_users(rows))
    assert report.created == []
    assert [(f.index, f.code, f.field) for f in report.failed] == [
        (i, "validation_error", "password_hash") for i in range(len(HOSTILE))
    ]
    for failure, stored in zip(report.failed, HOSTILE.values()):
        assert stored not in failure.message and stored[-20:] not in failure.message
        assert stored not in repr(failure)
    assert await resolve(client.users.count()) == 0


# --- Reports, dry runs, atomic imports ---------------------------------------------


async def test_a_partial_import_reports_its_failures_by_index(client: Client) -> None:
    await resolve(client.users.create("taken", "taken@example.com", PASSWORD))
    rows: list[UserRow] = [
        {"email": "ann@example.com", "password": PASSWORD, "roles": ["user", "moderator"]},
        {"email": "not an address"},
        {"email": "ANN@example.com"},
        {"email": "cyd@example.com", "roles": ["no-such-role"]},
        {"email": "TAKEN@example.com"},
        {"email": "dee@example.com", "username": "taken"},
        {"email": "eve@example.com", "password": "short"},
        {"email": "fay@example.com", "disabled": True, "email_verified": True},
        {"email": "gus@example.com", "password": PASSWORD, "password_hash": "!"},
    ]
    report = await resolve(client.users.import_users(rows))
    assert isinstance(report, doorward.ImportReport)
    assert (report.dry_run, report.total) == (False, len(rows))
    assert [(u.index, u.username) for u in report.created] == [(0, "ann"), (7, "fay")]
    assert [(f.index, f.code, f.field) for f in report.failed] == [
        (1, "validation_error", "email"),
        (2, "duplicate_email", None),
        (3, "validation_error", "roles"),
        (4, "duplicate_email", None),
        (5, "duplicate_username", None),
        (6, "validation_error", "password"),
        (8, "validation_error", "password"),
    ]
    assert all(isinstance(f, doorward.ImportFailure) and f.message for f in report.failed)
    assert "no-such-role" in report.failed[2].message
    assert await resolve(client.users.count()) == 3

    ann = await resolve(client.users.get(report.created[0].id))
    assert (ann.username, ann.email, ann.disabled) == ("ann", "ann@example.com", False)
    assert await resolve(client.roles.of_user(ann.id)) == ["moderator", "user"]
    await signed_in(client.login("ann", PASSWORD))  # a password in clear is hashed
    fay = await resolve(client.users.get_by_username("fay"))
    assert fay.disabled and fay.email_verified_at is not None
    assert await resolve(client.roles.of_user(fay.id)) == ["user"]
    with pytest.raises(doorward.InvalidCredentialsError):  # no password at all
        await resolve(client.login("fay", PASSWORD))


async def test_a_dry_run_and_a_failed_atomic_import_write_nothing(client: Client) -> None:
    good: list[UserRow] = [{"email": "ann@example.com"}, {"email": "bob@example.com"}]
    dry = await resolve(client.users.import_users(good, dry_run=True))
    assert dry.dry_run and dry.total == 2 and dry.failed == []
    assert [u.username for u in dry.created] == ["ann", "bob"]
    assert await resolve(client.users.count()) == 0

    bad: list[UserRow] = [*good, {"email": "nope"}]
    atomic = await resolve(client.users.import_users(bad, atomic=True))
    assert not atomic.dry_run and atomic.created == []
    assert [(f.index, f.field) for f in atomic.failed] == [(2, "email")]
    assert await resolve(client.users.count()) == 0
    types = [e.type for e in (await resolve(client.events.list())).items]
    assert "UsersImported" not in types

    whole = await resolve(client.users.import_users(good, atomic=True))
    assert [u.index for u in whole.created] == [0, 1] and whole.failed == []
    assert await resolve(client.users.count()) == 2


async def test_an_import_emits_one_users_imported_event(client: Client) -> None:
    rows: list[UserRow] = [
        {"email": "ann@example.com"},
        {"email": "bob@example.com"},
        {"email": "bad"},
    ]
    await resolve(client.users.import_users(rows))
    events = (await resolve(client.events.list())).items
    assert [e.type for e in events] == ["UsersImported"]
    assert events[0].payload == {"created": 2, "failed": 1}


async def test_created_at_is_a_datetime_or_rfc3339_text(client: Client) -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    rows: list[UserRow] = [
        {"email": "ann@example.com", "created_at": when},
        {"email": "bob@example.com", "created_at": "2019-05-06T07:08:09Z"},
    ]
    report = await resolve(client.users.import_users(rows))
    ann, bob = [await resolve(client.users.get(u.id)) for u in report.created]
    assert ann.created_at == when
    assert bob.created_at == datetime(2019, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    items = await exported(client)
    assert [row.get("created_at") for row in items] == [bob.created_at, ann.created_at]
    for row in items:
        at = row.get("created_at")
        assert isinstance(at, datetime) and at.utcoffset() == timedelta(0)


# --- Rows that do not convert ---------------------------------------------------------


SECRET_VALUE = "hunter2-do-not-echo"

#: Rows Python cannot hand over, each with what the message names.
MALFORMED: dict[str, tuple[Any, list[str]]] = {
    "an unknown key": (
        [{"email": "ann@example.com"}, {"email": "b@example.com", "passwrd": SECRET_VALUE}],
        ["row 1", "unknown key `passwrd`"],
    ),
    "a value of the wrong type": (
        [{"email": "ann@example.com", "disabled": SECRET_VALUE}],
        ["row 0", "disabled", "boolean"],
    ),
    "a password that is not text": (
        [{"email": "ann@example.com"}, {"email": "b@example.com", "password": [SECRET_VALUE]}],
        ["row 1", "password"],
    ),
    "a role that is not text": (
        [{"email": "ann@example.com", "roles": ["user", 7]}],
        ["row 0", "roles"],
    ),
    "no email": ([{"username": SECRET_VALUE}], ["row 0", "missing key `email`"]),
    "a naive datetime": (
        [{"email": "ann@example.com", "created_at": datetime(2020, 1, 1)}],
        ["row 0", "created_at"],
    ),
    "a time that is not RFC 3339": (
        [{"email": "ann@example.com", "created_at": SECRET_VALUE}],
        ["row 0", "created_at"],
    ),
    "a value that is not JSON": (
        [{"email": "ann@example.com", "password_hash": object()}],
        ["row 0", "password_hash"],
    ),
    "a key that is not text": ([{"email": "ann@example.com", 7: SECRET_VALUE}], ["row 0"]),
    "a row that is not a dict": ([{"email": "ann@example.com"}, SECRET_VALUE], ["row 1"]),
    "one dict instead of a list": ({"email": "ann@example.com"}, ["sequence"]),
    "text instead of a list": (SECRET_VALUE, ["sequence"]),
    "no sequence at all": (7, ["sequence"]),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_row_that_does_not_convert_raises_validation_error(
    client: Client, case: str
) -> None:
    rows, named = MALFORMED[case]
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.users.import_users(rows))
    message = str(caught.value)
    assert caught.value.field == "rows", message
    for word in named:
        assert word in message, f"{word!r} not in {message!r}"
    assert "hunter2" not in message
    assert await resolve(client.users.count()) == 0


async def test_rows_may_be_any_sequence_of_mappings(client: Client) -> None:
    from types import MappingProxyType

    rows = (MappingProxyType({"email": "ann@example.com"}), {"email": "bob@example.com"})
    report = await resolve(client.users.import_users(cast(Any, rows)))
    assert [u.username for u in report.created] == ["ann", "bob"]
    empty = await resolve(client.users.import_users([]))
    assert (empty.total, empty.created, empty.failed) == (0, [], [])


# --- Export, round trip, search ------------------------------------------------------


async def test_export_feeds_an_import_into_another_doorward(make: Opener) -> None:
    first, second = make(), make()
    await resolve(first.users.create("ann", "ann@example.com", PASSWORD))
    made = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    rows: list[UserRow] = [
        {"email": "bob@example.com", "password_hash": made, "roles": ["moderator"]},
        {
            "email": "cyd@example.com",
            "password": PASSWORD,
            "disabled": True,
            "email_verified": True,
        },
        {"email": "dee@example.com", "created_at": "2001-02-03T04:05:06Z"},
    ]
    await resolve(first.users.import_users(rows))

    plain = await exported(first)
    assert all("password_hash" not in row and "password" not in row for row in plain)
    assert plain[0] == {
        "id": plain[0].get("id"),
        "username": "dee",
        "email": "dee@example.com",
        "roles": ["user"],
        "email_verified": False,
        "disabled": False,
        "created_at": datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    }
    rows = await exported(first, with_hashes=True)
    assert len(rows) == 4
    assert [row.get("username") for row in rows] == ["dee", "ann", "bob", "cyd"]
    assert rows[2].get("password_hash") == made

    report = await resolve(second.users.import_users(rows))
    assert report.failed == [] and len(report.created) == 4
    assert [u.id for u in report.created] == [row.get("id") for row in rows]
    assert await exported(second, with_hashes=True) == rows
    await signed_in(second.login("ann", PASSWORD))
    await signed_in(second.login("bob", PASSWORD))
    with pytest.raises(doorward.UserDisabledError):
        await resolve(second.login("cyd@example.com", PASSWORD))

    # Importing the same rows again refuses each of them: ids and addresses are taken.
    again = await resolve(second.users.import_users(rows))
    assert again.created == [] and [f.code for f in again.failed] == ["duplicate_email"] * 4


async def test_search_pages_through_matching_accounts(client: Client) -> None:
    for name, email in [
        ("ann", "ann@example.com"),
        ("bob", "annie@example.org"),
        ("annabel", "bel@example.net"),
        ("cyd", "cyd@example.com"),
    ]:
        await resolve(client.users.create(name, email, PASSWORD))
    found = await resolve(client.users.search("ANN"))
    assert isinstance(found, doorward.Page)
    assert [u.username for u in found.items] == ["ann", "bob", "annabel"]
    assert found.next_cursor is None

    first = await resolve(client.users.search("ann", limit=2))
    assert [u.username for u in first.items] == ["ann", "bob"] and first.next_cursor
    rest = await resolve(client.users.search("ann", first.next_cursor, 2))
    assert [u.username for u in rest.items] == ["annabel"] and rest.next_cursor is None
    assert [u.username for u in (await resolve(client.users.search("cyd@"))).items] == ["cyd"]
    assert (await resolve(client.users.search("zed"))).items == []

    for query in ("", "   "):
        with pytest.raises(doorward.ValidationError) as caught:
            await resolve(client.users.search(query))
        assert caught.value.field == "query"


# --- The result objects ------------------------------------------------------------


async def test_results_are_frozen_values_whose_repr_keeps_secrets_out(client: Client) -> None:
    made = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    rows: list[UserRow] = [
        {"email": "ann@example.com", "password_hash": made},
        {"email": "bob@example.com", "password": "short"},
    ]
    report = await resolve(client.users.import_users(rows, dry_run=True))
    assert report == report and hash(report) == hash(report)
    created, failed = report.created[0], report.failed[0]
    assert isinstance(created, doorward.ImportedUser)
    assert (created.index, created.username) == (0, "ann")
    assert (failed.index, failed.code, failed.field) == (1, "validation_error", "password")
    assert repr(report) == "ImportReport(dry_run=True, total=2, created=<1 users>, failed=<1 rows>)"
    assert repr(created) == f"ImportedUser(index=0, id='{created.id}', username='ann')"
    assert repr(failed).startswith(
        "ImportFailure(index=1, code='validation_error', field='password'"
    )
    assert len({created, created}) == 1 and hash(failed) == hash(failed)
    with pytest.raises(AttributeError):
        report.total = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        created.username = "bob"  # type: ignore[misc]

    await resolve(client.users.import_users(rows))
    page = await resolve(client.users.export_users(with_hashes=True))
    assert isinstance(page, doorward.UserRowPage)
    assert repr(page) == "UserRowPage(items=<1 rows>, next_cursor=None)"
    for text in (repr(page), str(page), repr(report), repr(report.created)):
        assert made not in text and made[-20:] not in text
        assert "example.com" not in text and "short" not in text
    assert page == await resolve(client.users.export_users(with_hashes=True))
    assert page != await resolve(client.users.export_users())
    # The items are new dicts on each read: changing one changes no other.
    page.items[0]["email"] = "changed@example.com"
    assert page.items[0]["email"] == "ann@example.com"
    with pytest.raises(AttributeError):
        page.next_cursor = "x"  # type: ignore[misc]


async def test_import_into_postgres(make: Opener, postgres_url: str) -> None:
    dw = make(database_url=postgres_url)
    made = django("pbkdf2_sha256")()
    rows: list[UserRow] = [
        {"email": "ann@example.com", "password_hash": made},
        {"email": "ann@example.com"},
    ]
    report = await resolve(dw.users.import_users(rows))
    assert [u.index for u in report.created] == [0]
    assert [(f.index, f.code) for f in report.failed] == [(1, "duplicate_email")]
    await signed_in(dw.login("ann", PASSWORD))
    assert (await stored_hash(dw, "ann")).startswith("$argon2id$")
    assert [u.username for u in (await resolve(dw.users.search("an"))).items] == ["ann"]
