"""Who is calling: a signed-in user or an integration's API key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from app.domain.access.roles import Role, Scope


class PrincipalKind(StrEnum):
    USER = "user"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    id: UUID
    kind: PrincipalKind
    name: str
    department_id: UUID | None
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    rate_limit: int | None = None  # requests per rate-limit window; None: the default

    def has_any_role(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    def has_any_scope(self, scopes: frozenset[Scope]) -> bool:
        return bool(self.scopes & scopes)

    def heads(self, department_id: UUID | None) -> bool:
        """A department head of that department: the party every workflow names as "the
        department's head"."""
        return Role.DEPARTMENT_HEAD in self.roles and self.department_id == department_id


@dataclass(frozen=True)
class Access:
    """Who may call an action: any of ``roles`` (users) or any of ``scopes`` (API keys).

    ``public`` actions need no caller; ``authenticated`` ones accept any signed-in user.
    """

    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    public: bool = False
    authenticated: bool = False

    def allows(self, principal: Principal) -> bool:
        if self.public:
            return True
        if principal.kind is PrincipalKind.SERVICE:
            return principal.has_any_scope(self.scopes)
        return self.authenticated or principal.has_any_role(self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        parts = []
        if self.authenticated:
            parts.append("any signed-in user")
        if self.roles:
            parts.append("roles: " + ", ".join(sorted(self.roles)))
        if self.scopes:
            parts.append("API key scopes: " + ", ".join(sorted(self.scopes)))
        return "; ".join(parts)
