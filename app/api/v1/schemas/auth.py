"""Bodies for tokens, refresh, logout and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from app.api.v1.schemas.base import Input, Output
from app.domain.access.roles import Scope

TOKEN_FORM_EXAMPLE = {"grant_type": "password", "username": "zhang.wei",
                      "password": "correct-horse-battery-9"}


class TokenForm(BaseModel):
    """The OAuth2 password grant as a form, so Swagger's *Authorize* works: the fields of
    FastAPI's ``OAuth2PasswordRequestForm``, under a name a generated client can use."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str
    password: str = Field(json_schema_extra={"format": "password"})
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = Field(default=None, json_schema_extra={"format": "password"})


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int


class RefreshIn(Input):
    refresh_token: str = Field(min_length=1, max_length=200)


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=100, examples=["纷享销客同步"])
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]
    department_id: UUID | None = None
    rate_limit: int | None = Field(
        None, ge=1, le=1_000_000,
        description="Requests this key may send per rate-limit window "
                    "(ACCORD_RATE_LIMIT_WINDOW_S); omitted: the service's default")


class ApiKeyOut(Output):
    id: UUID
    name: str
    prefix: str
    scopes: list[Scope]
    department_id: UUID | None
    created_by: UUID
    created_at: datetime
    revoked_at: datetime | None
    active: bool
    version: int
    rate_limit: int | None = Field(description="Its own requests per rate-limit window; "
                                   "null: the service's default")


class ApiKeyIssued(ApiKeyOut):
    key: str = Field(description="The secret: shown this once, send it as X-API-Key")
