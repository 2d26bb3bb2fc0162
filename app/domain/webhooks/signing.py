"""Standard Webhooks signing: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
keyed with the base64 part of a ``whsec_`` secret. During a rotation the header carries one
signature per secret, separated by spaces, and a receiver accepts any of them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_from(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int,
                     body: bytes) -> str:
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets)


def message_id(delivery_hex: str) -> str:
    """The ``webhook-id`` of a delivery: stable across its retries and redeliveries."""
    return f"msg_{delivery_hex}"
