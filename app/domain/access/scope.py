"""Record scope (domain §1, invariant): which records of a department a principal reaches.

Repositories turn a ``RecordScope`` into a query filter; records outside it are treated as
missing (404), never as forbidden, so that ids do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role


class Reach(StrEnum):
    ALL = "all"  # every department
    DEPARTMENT = "department"  # everything of one department
    OWN = "own"  # records owned by, or shared with, the principal
    NONE = "none"


@dataclass(frozen=True)
class RecordScope:
    reach: Reach
    user_id: UUID | None = None
    department_id: UUID | None = None

    def covers(self, *, owner_id: UUID | None, department_id: UUID | None,
               shared_with_department: bool = False) -> bool:
        """Whether one record lies inside the scope (the in-memory twin of the SQL filter)."""
        if self.reach is Reach.ALL:
            return True
        if self.reach is Reach.DEPARTMENT:
            return department_id == self.department_id
        if self.reach is Reach.OWN:
            return owner_id == self.user_id or (
                shared_with_department and department_id == self.department_id
            )
        return False


def read_scope(principal: Principal) -> RecordScope:
    """The records a principal may read."""
    if principal.kind is PrincipalKind.SERVICE:
        return _service_scope(principal)
    if principal.roles & READ_ACROSS_DEPARTMENTS:
        return RecordScope(Reach.ALL)
    return write_scope(principal)


def write_scope(principal: Principal) -> RecordScope:
    """The records a principal may change; reading across departments grants no writes."""
    if principal.kind is PrincipalKind.SERVICE:
        return _service_scope(principal)
    if Role.ADMIN in principal.roles:
        return RecordScope(Reach.ALL)
    if Role.DEPARTMENT_HEAD in principal.roles:
        return RecordScope(Reach.DEPARTMENT, department_id=principal.department_id)
    if Role.ACCOUNT_MANAGER in principal.roles:
        return RecordScope(Reach.OWN, user_id=principal.id, department_id=principal.department_id)
    return RecordScope(Reach.NONE)


def _service_scope(principal: Principal) -> RecordScope:
    """An integration's API key reaches every department, or only the one it was issued
    for; its scopes (customers:read, …) say what it may do there."""
    if principal.department_id is None:
        return RecordScope(Reach.ALL)
    return RecordScope(Reach.DEPARTMENT, department_id=principal.department_id)
