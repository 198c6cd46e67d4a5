"""A software passkey for the tests: what a browser and a platform
authenticator answer to WebAuthn options, written from the WebAuthn Level 3
specification with ``cryptography`` (ES256), independently of the
``webauthn-rs`` that doorward verifies with. It answers in the JSON of
``PublicKeyCredential.toJSON()``, which is what a host hands to doorward.

Only what the tests need: ``none`` attestation, user verification always
reported, a counter that moves forward, and ``origin`` to answer as another
site would (a phishing page: an honest browser never does that)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any, Optional, Union

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

#: Authenticator data flags (WebAuthn §6.1): user present, user verified,
#: backup eligible, attested credential data included.
UP, UV, BE, AT = 0x01, 0x04, 0x08, 0x40

_Cbor = Union[int, bytes, str, dict[Any, Any], list[Any]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value: _Cbor) -> bytes:
    """RFC 8949 for the few types attestation objects and COSE keys use."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | info]) + struct.pack(fmt, n)
        raise ValueError(n)

    if isinstance(value, bool):
        raise TypeError("no booleans here")
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode()
        return head(3, len(data)) + data
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())


class SoftPasskey:
    """One authenticator holding the passkeys it created, by relying party."""

    def __init__(self, *, synced: bool = False) -> None:
        self.synced = synced
        #: credential id -> (rp id, user handle, private key, counter)
        self.credentials: dict[bytes, tuple[str, bytes, ec.EllipticCurvePrivateKey, int]] = {}

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def _flags(self) -> int:
        return UP | UV | (BE if self.synced else 0)

    def create(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """``navigator.credentials.create({publicKey})``'s ``toJSON()``, for
        ``options`` as ``start_registration`` gives them."""
        public_key = options["publicKey"]
        rp_id: str = public_key["rp"]["id"]
        assert any(p["alg"] == -7 for p in public_key["pubKeyCredParams"]), "ES256 offered"
        credential_id = secrets.token_bytes(16)
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose_key = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags() | AT])
            + struct.pack(">I", 0)
            + bytes(16)  # AAGUID: none
            + struct.pack(">H", len(credential_id))
            + credential_id
            + cbor(cose_key)
        )
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        user_handle = unb64url(public_key["user"]["id"])
        self.credentials[credential_id] = (rp_id, user_handle, key, 0)
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def get(
        self, options: dict[str, Any], origin: str, credential_id: Optional[bytes] = None
    ) -> dict[str, Any]:
        """``navigator.credentials.get({publicKey})``'s ``toJSON()``: an
        assertion by the credential ``allowCredentials`` names, or (none
        named, a discoverable request) by ``credential_id``, else the only
        one this authenticator holds for the relying party."""
        public_key = options["publicKey"]
        rp_id: str = public_key["rpId"]
        allowed = [unb64url(c["id"]) for c in public_key.get("allowCredentials") or []]
        if credential_id is None:
            mine = [c for c in allowed or self.credentials if c in self.credentials]
            assert len(mine) == 1, "one passkey answers"
            credential_id = mine[0]
        held_rp, user_handle, key, counter = self.credentials[credential_id]
        assert held_rp == rp_id, "a passkey answers only its relying party"
        counter += 1
        self.credentials[credential_id] = (held_rp, user_handle, key, counter)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", counter)
        )
        client_data = self._client_data("webauthn.get", public_key["challenge"], origin)
        signature = key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(user_handle),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
