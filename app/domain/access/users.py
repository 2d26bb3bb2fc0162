"""Users and departments (domain §1): every user belongs to one department."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.common.errors import FieldError, InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12


def normalise_username(raw: str) -> str:
    """Usernames compare case-insensitively; they are stored lower-cased."""
    username = raw.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput([FieldError("/username", "username_format")])
    return username


def check_password_strength(password: str, pointer: str = "/password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput([FieldError(pointer, "password_too_short",
                                       {"min_length": MIN_PASSWORD_LENGTH})])


def check_roles(roles: frozenset[Role]) -> None:
    if not roles:
        raise InvalidInput([FieldError("/roles", "roles_empty")])


@dataclass
class Department:
    id: UUID
    name: str
    description: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "active": self.active}


@dataclass
class User:
    id: UUID
    username: str
    display_name: str
    email: str
    department_id: UUID
    roles: frozenset[Role]
    active: bool
    password_hash: str = field(repr=False)
    version: int
    created_at: datetime
    updated_at: datetime

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps of a user: never the password hash."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "department_id": str(self.department_id),
            "roles": sorted(self.roles),
            "active": self.active,
        }


Versioned = TypeVar("Versioned", User, Department)


def bump(entity: Versioned, now: datetime, **changes: Any) -> Versioned:
    """A changed copy with the next version; versions drive ETags and If-Match."""
    return replace(entity, **changes, version=entity.version + 1, updated_at=now)
