"""The configuration forms: keyword arguments, a dict, a TOML file (str or
pathlib.Path), a dict or file with keyword overrides, key files as Paths.
Each form is checked through an effect of the key it sets (`access_ttl`
shows in `expires_in`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import CHEAP, KEYS, PASSWORD, SECRET, Client, resolve

import doorward

CLASSES = [doorward.Doorward, doorward.AsyncDoorward]


async def expires_in(client: Client) -> int:
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await resolve(client.verify_token(reg.tokens.access_token))
    return reg.tokens.expires_in


def toml_file(tmp_path: Path, **extra: Any) -> Path:
    lines = [
        f'database_url = "sqlite://{tmp_path / "auth.db"}"',
        f'jwt_secret = "{SECRET}"',
        "argon2_memory_kib = 64",
        "argon2_iterations = 1",
        *(f"{key} = {value!r}" for key, value in extra.items()),
    ]
    path = tmp_path / "doorward.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cls", CLASSES)
async def test_keyword_arguments(cls: type[Client]) -> None:
    client = cls(
        database_url="memory://",
        jwt_secret=SECRET,
        argon2_memory_kib=64,
        argon2_iterations=1,
        access_ttl=601,
    )
    assert await expires_in(client) == 601


@pytest.mark.parametrize("cls", CLASSES)
async def test_dict(cls: type[Client]) -> None:
    config = {**CHEAP, "access_ttl": 602}
    assert await expires_in(cls(config)) == 602
    assert config == {**CHEAP, "access_ttl": 602}  # not modified


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("as_path", [False, True], ids=["str", "Path"])
async def test_toml_file(cls: type[Client], as_path: bool, tmp_path: Path) -> None:
    path = toml_file(tmp_path, access_ttl=603)
    client = cls(path if as_path else str(path))
    assert client.backend == "sqlite"
    assert (tmp_path / "auth.db").exists()
    assert await expires_in(client) == 603


@pytest.mark.parametrize("cls", CLASSES)
async def test_keywords_override_a_dict(cls: type[Client]) -> None:
    client = cls(
        {**CHEAP, "access_ttl": 604, "jwt_secret": "s" * 10}, access_ttl=605, jwt_secret=SECRET
    )
    assert await expires_in(client) == 605


@pytest.mark.parametrize("cls", CLASSES)
async def test_keywords_override_a_file(cls: type[Client], tmp_path: Path) -> None:
    client = cls(toml_file(tmp_path, access_ttl=606), access_ttl=607, database_url="memory://")
    assert client.backend == "memory"
    assert await expires_in(client) == 607


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("as_path", [True, False], ids=["Path", "str-path"])
async def test_eddsa_keys_from_files(cls: type[Client], as_path: bool) -> None:
    private, public = KEYS / "ed25519.pem", KEYS / "ed25519.pub.pem"
    client = cls(
        {**CHEAP, "jwt_secret": None},
        jwt_algorithm="EdDSA",
        jwt_private_key=private if as_path else str(private),
        jwt_public_key=public if as_path else str(public),
    )
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    principal = await resolve(client.verify_token(reg.tokens.access_token))
    assert principal.user_id == reg.user.id
    # The token is EdDSA-signed by that key: PyJWT verifies it with the public key.
    assert jwt.get_unverified_header(reg.tokens.access_token)["alg"] == "EdDSA"
    claims = jwt.decode(
        reg.tokens.access_token,
        public.read_text(),
        algorithms=["EdDSA"],
        audience="doorward",
        issuer="doorward",
    )
    assert claims["sub"] == reg.user.id
    # ...and the JWKS publishes it.
    [key] = client.jwks()["keys"]
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    assert key["kid"] == jwt.get_unverified_header(reg.tokens.access_token)["kid"]
    # Another key's signature is refused.
    other = (KEYS / "ed25519-other.pem").read_text()
    forged = jwt.encode(claims, other, "EdDSA", {"kid": key["kid"], "typ": "at+jwt"})
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(client.verify_token(forged))


@pytest.mark.parametrize("cls", CLASSES)
def test_unknown_keys_are_config_errors(cls: type[Client], tmp_path: Path) -> None:
    with pytest.raises(doorward.ConfigError) as kwarg:
        cls(CHEAP, acess_ttl=600)
    assert "acess_ttl" in str(kwarg.value)
    with pytest.raises(doorward.ConfigError) as in_dict:
        cls({**CHEAP, "jwt_isuer": "me"})
    assert "jwt_isuer" in str(in_dict.value)
    with pytest.raises(doorward.ConfigError) as in_file:
        cls(toml_file(tmp_path, redis_prefx="x:"))
    assert "redis_prefx" in str(in_file.value)
    with pytest.raises(doorward.ConfigError):
        cls(tmp_path / "missing.toml")
    with pytest.raises(doorward.ConfigError):
        cls(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", CLASSES)
async def test_files_keys(cls: type[Client], tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    client = cls(CHEAP, files_url=folder.as_uri(), files_max_bytes=5)
    await resolve(client.files.put("a/b.txt", b"12345"))
    assert (folder / "a" / "b.txt").read_bytes() == b"12345"
    with pytest.raises(doorward.ValidationError):
        await resolve(client.files.put("a/c.txt", b"123456"))
    # The S3 keys are taken (and used only with an s3:// files_url).
    s3_keys = {
        "files_s3_region": "eu-west-1",
        "files_s3_endpoint": "http://127.0.0.1:9000",
        "files_s3_access_key_id": "id",
        "files_s3_secret_access_key": "secret",
        "files_s3_allow_http": True,
    }
    cls({**CHEAP, **s3_keys})
    from_file = cls(toml_file(tmp_path, files_url=(tmp_path / "from-file").as_uri()))
    await resolve(from_file.files.put("x.txt", b"x"))
    assert (tmp_path / "from-file" / "x.txt").exists()


@pytest.mark.parametrize("cls", CLASSES)
async def test_events_keys(cls: type[Client], tmp_path: Path) -> None:
    # One attempt, then the event is given up on: the handler sees it once.
    client = cls(
        CHEAP,
        events_max_attempts=1,
        events_retry_base_ms=1,
        events_retry_max_secs=1,
        events_poll_interval_ms=50,
        events_lease_secs=5,
        webhook_timeout_ms=500,
    )
    calls: list[str] = []

    def failing(event: doorward.Event) -> None:
        calls.append(event.id)
        raise RuntimeError("always")

    sub = await resolve(client.events.subscribe(failing, types=["RoleCreated"]))
    await resolve(client.roles.create("editor", ["posts:write"]))
    for _ in range(3):
        await resolve(client.events.flush())
    sub.close()
    assert len(calls) == 1

    for off in (cls(CHEAP, events_dispatch=False), cls({**CHEAP, "events_dispatch": False})):
        with pytest.raises(doorward.ConfigError):
            await resolve(off.events.subscribe(print))


@pytest.mark.parametrize("cls", CLASSES)
def test_badly_typed_values_are_config_errors(cls: type[Client]) -> None:
    with pytest.raises(doorward.ConfigError):
        cls(CHEAP, events_max_attempts="many")
    with pytest.raises(doorward.ConfigError):
        cls(CHEAP, files_max_bytes=-1)


@pytest.mark.parametrize("cls", CLASSES)
def test_url_passwords_stay_out_of_repr_and_errors(cls: type[Client]) -> None:
    # Redis connects lazily: an unreachable one opens, password and all.
    client = cls(CHEAP, redis_url="redis://:redis-password-123@127.0.0.1:9/0", redis_timeout_ms=100)
    for text in (repr(client), str(client), repr([client])):
        assert "redis-password-123" not in text
    # A PostgreSQL server that is not there: the error does not repeat the URL.
    with pytest.raises(doorward.DoorwardError) as failed:
        cls(
            CHEAP,
            database_url="postgres://app:db-password-123@127.0.0.1:9/app",
            database_acquire_timeout=1,
        )
    for text in (str(failed.value), repr(failed.value)):
        assert "db-password-123" not in text
