"""doorward's tokens and hashes against the libraries Python hosts use:
PyJWT for JWTs and argon2-cffi for argon2id. Each side must accept what the
other makes, and refuse what doorward's rules refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import argon2
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

import doorward

KEYS = Path(__file__).resolve().parents[2] / "tests" / "keys"
SECRET = "interop-test-secret-of-32-bytes-or-more"
PASSWORD = "correct horse battery staple"


def _open(**keys: Any) -> doorward.Doorward:
    return doorward.Doorward(
        database_url="memory://",
        argon2_memory_kib=64,
        argon2_iterations=1,
        **keys,
    )


def _cases() -> list[tuple[str, dict[str, Any], Any, Any]]:
    cases: list[tuple[str, dict[str, Any], Any, Any]] = [
        ("HS256", {"jwt_secret": SECRET}, SECRET, SECRET)
    ]
    for alg, name in [("EdDSA", "ed25519"), ("RS256", "rsa"), ("ES256", "ec")]:
        private = (KEYS / f"{name}.pem").read_text()
        public = (KEYS / f"{name}.pub.pem").read_text()
        config = {"jwt_algorithm": alg, "jwt_private_key": private, "jwt_public_key": public}
        cases.append(
            (
                alg,
                config,
                load_pem_private_key(private.encode(), None),
                load_pem_public_key(public.encode()),
            )
        )
    return cases


@pytest.mark.parametrize(
    ("alg", "config", "sign_key", "verify_key"), _cases(), ids=lambda c: str(c)[:8]
)
def test_tokens_verify_both_ways(
    alg: str, config: dict[str, Any], sign_key: Any, verify_key: Any
) -> None:
    dw = _open(**config)
    reg = dw.register_user("interop", "interop@example.com", PASSWORD)
    token = reg.tokens.access_token

    # doorward's token in PyJWT, with every registered claim checked.
    claims = jwt.decode(
        token,
        verify_key,
        algorithms=[alg],
        audience="doorward",
        issuer="doorward",
        options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert claims["sub"] == reg.user.id
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == alg

    # PyJWT's token with the same claims and header in doorward.
    foreign = jwt.encode(
        claims, sign_key, algorithm=alg, headers={"typ": "at+jwt", "kid": header["kid"]}
    )
    principal = dw.verify_token(foreign)
    assert principal.user_id == reg.user.id
    assert principal.session_id == claims["sid"]

    # What doorward's rules refuse, even when PyJWT signs it properly.
    for bad_headers in ({"kid": header["kid"]}, {"typ": "JWT", "kid": header["kid"]}):
        with pytest.raises(doorward.TokenInvalidError):
            dw.verify_token(jwt.encode(claims, sign_key, algorithm=alg, headers=bad_headers))
    with pytest.raises(doorward.TokenInvalidError):
        dw.verify_token(
            jwt.encode(
                {**claims, "aud": "elsewhere"},
                sign_key,
                algorithm=alg,
                headers={"typ": "at+jwt", "kid": header["kid"]},
            )
        )


def test_hmac_tokens_cannot_be_forged_with_the_public_key() -> None:
    public = (KEYS / "rsa.pub.pem").read_text()
    dw = _open(
        jwt_algorithm="RS256", jwt_private_key=(KEYS / "rsa.pem").read_text(), jwt_public_key=public
    )
    reg = dw.register_user("forger", "forger@example.com", PASSWORD)
    claims = jwt.decode(reg.tokens.access_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(reg.tokens.access_token)["kid"]
    # PyJWT refuses to HMAC with a PEM key; build the classic confusion by hand.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
        + "."
        + b64(json.dumps(claims).encode())
    )
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(doorward.TokenInvalidError):
        dw.verify_token(signing_input + "." + b64(signature))


def test_argon2_hashes_verify_both_ways() -> None:
    ours = doorward.PasswordHasher(memory_kib=1024, iterations=2, parallelism=1)
    cffi = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    assert (ours.memory_kib, ours.iterations, ours.parallelism) == (1024, 2, 1)

    ours_hash = ours.hash(PASSWORD)
    assert ours_hash.startswith("$argon2id$v=19$m=1024,t=2,p=1$")
    assert cffi.verify(ours_hash, PASSWORD)
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        cffi.verify(ours_hash, "not the password")

    cffi_hash = cffi.hash(PASSWORD)
    assert ours.verify(PASSWORD, cffi_hash)
    assert not ours.verify("not the password", cffi_hash)


def test_stored_hashes_over_the_caps_are_refused_before_any_work() -> None:
    ours = doorward.PasswordHasher(memory_kib=1024, iterations=1)
    # 8 GiB of memory asked for by a hash: refused, not attempted.
    greedy = (
        "$argon2id$v=19$m=8388608,t=1,p=1$c2FsdHNhbHRzYWx0"
        "$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
    )
    with pytest.raises(doorward.InternalError):
        ours.verify(PASSWORD, greedy)
    with pytest.raises(doorward.InternalError):
        ours.verify(PASSWORD, "not a phc string")
