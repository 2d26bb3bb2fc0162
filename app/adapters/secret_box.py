"""Webhook secrets sealed at rest (AES-256-GCM). The plaintext is needed to sign, so a
secret cannot be hashed like an API key; sealing keeps a database dump or backup from
revealing it. The key is derived from the service's signing key and tagged with its kid,
so after a signing-key rotation secrets sealed before it open with the previous key
(``ACCORD_PREVIOUS_SIGNING_KEYS``) for as long as that key is listed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_CONTEXT = b"accord webhook secrets v1"


def _key(signing_key: str) -> bytes:
    return hmac.new(signing_key.encode(), _CONTEXT, hashlib.sha256).digest()


class AesGcmSecretBox:
    def __init__(self, key_id: str, signing_key: str,
                 previous: Mapping[str, str] | None = None) -> None:
        self._kid = key_id
        self._keys = {kid: AESGCM(_key(k)) for kid, k in (previous or {}).items()}
        self._keys[key_id] = AESGCM(_key(signing_key))

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._kid].encrypt(nonce, secret.encode(), self._kid.encode())
        return f"v1.{self._kid}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        version, kid, data = sealed.split(".", 2)
        if version != "v1" or kid not in self._keys:
            raise ValueError("a webhook secret sealed with a key that is no longer listed")
        raw = base64.urlsafe_b64decode(data)
        return self._keys[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()
