"""Refresh tokens and API keys: opaque secrets the service stores only as hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain.access.roles import Scope
from app.domain.common.errors import InvalidToken, RefreshTokenReused


@dataclass
class RefreshToken:
    """One link of a rotation family; a family is what one sign-in started."""

    id: UUID
    user_id: UUID
    family_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    def check_usable(self, now: datetime) -> None:
        """A rotated token presented again means it leaked: the caller must revoke the
        whole family (OAuth 2.0 Security BCP, refresh token rotation). A revoked one
        (logout, deactivation) is simply no longer valid."""
        if self.rotated_at is not None:
            raise RefreshTokenReused()
        if self.revoked_at is not None:
            raise InvalidToken(reason="revoked")
        if self.expires_at <= now:
            raise InvalidToken(reason="expired")


@dataclass
class ApiKey:
    id: UUID
    name: str
    prefix: str  # shown in lists so a key can be recognised without its secret
    secret_hash: str
    scopes: frozenset[Scope]
    department_id: UUID | None
    created_by: UUID
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 1
    rate_limit: int | None = None  # its own requests per rate-limit window; None: default

    @property
    def active(self) -> bool:
        return self.revoked_at is None
