"""JWT access tokens (python-jose). The algorithm is pinned to HS256, every claim the
API conventions name is required and checked, and only our own ``kid``s are accepted:
tokens are signed with the current key, and verified with the key their ``kid`` names
(the current one or a previous one still accepted during a rotation). A token asking for
an extension we do not implement (any ``crit`` header, RFC 7515 §4.1.11) is refused."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from jose import JWTError, jwt

from app.domain.common.errors import InvalidToken
from app.services.ports.access import AccessClaims

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud", "jti")
TOKEN_USE = "access"


class JoseTokenCodec:
    def __init__(self, *, key: str, issuer: str, audience: str, key_id: str,
                 lifetime: timedelta, previous_keys: Mapping[str, str] | None = None) -> None:
        self._key = key
        self._verification_keys = {**(previous_keys or {}), key_id: key}
        self._issuer = issuer
        self._audience = audience
        self._key_id = key_id
        self._lifetime = lifetime

    def issue_access(self, subject: UUID, now: datetime) -> tuple[str, datetime]:
        expires = now + self._lifetime
        claims = {
            "sub": str(subject), "iss": self._issuer, "aud": self._audience,
            "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(16), "use": TOKEN_USE,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._key_id})
        return token, expires

    def read_access(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise InvalidToken(reason="algorithm")
            if "crit" in header:
                raise InvalidToken(reason="critical_extension")
            kid = header.get("kid")
            key = self._verification_keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken(reason="key_id")
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self._audience,
                issuer=self._issuer,
                options={f"require_{c}": True for c in REQUIRED_CLAIMS} | {"leeway": 0},
            )
        except JWTError as exc:
            raise InvalidToken(reason="signature_or_claims") from exc
        if claims.get("use") != TOKEN_USE:
            raise InvalidToken(reason="not_an_access_token")
        try:
            return AccessClaims(
                subject=UUID(claims["sub"]), token_id=str(claims["jti"]),
                issued_at=datetime.fromtimestamp(claims["iat"], UTC),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (ValueError, TypeError) as exc:
            raise InvalidToken(reason="claims") from exc
