"""A software passkey authenticator for tests: P-256 keys from `cryptography`, the WebAuthn
structures built by hand, so each test can make exactly the answer it needs (another relying
party, an old counter, a wrong signature)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "https://localhost:8443"
RP_ID = "localhost"
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


@dataclass
class SoftAuthenticator:
    rp_id: str = RP_ID
    origin: str = ORIGIN
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    user_handle: bytes = b""
    sign_count: int = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, flags: int, rp_id: str | None = None, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def create(self, options: dict[str, Any], *, flags: int = UP | UV | BE | BS) -> str:
        """The JSON answer to navigator.credentials.create(options)."""
        self.user_handle = unb64(options["user"]["id"])
        attested = (
            bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        auth_data = self._auth_data(flags | AT, options["rp"]["id"], attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64(self.credential_id),
                "rawId": b64(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64(
                        _client_data("webauthn.create", options["challenge"], self.origin)
                    ),
                    "attestationObject": b64(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        rp_id: str | None = None,
        sign_count: int | None = None,
        flags: int = UP | UV | BE | BS,
    ) -> str:
        """The JSON answer to navigator.credentials.get(options): the counter goes up by one
        unless `sign_count` says what to send; `rp_id` signs for another relying party."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        auth_data = self._auth_data(flags, rp_id)
        client_data = _client_data("webauthn.get", options["challenge"], self.origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64(self.credential_id),
                "rawId": b64(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64(client_data),
                    "authenticatorData": b64(auth_data),
                    "signature": b64(signature),
                    "userHandle": b64(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )
