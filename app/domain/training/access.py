"""Who keeps the training records. Courses are read by everyone signed in; administrators
and department heads write courses and record sessions (a head for attendees of their own
department). A person's record is read by themselves and by whoever reads their user
record (their head, an administrator, an executive)."""

from __future__ import annotations

from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.scope import read_scope, write_scope

KEEPERS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD})
# Who lists what lapses soon: a head sees their department, the others everyone.
OVERSEERS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD, Role.EXECUTIVE})


def reads_record(principal: Principal, user_id: UUID, department_id: UUID) -> bool:
    return principal.id == user_id or read_scope(principal).covers(
        owner_id=user_id, department_id=department_id)


def records_for(principal: Principal, user_id: UUID, department_id: UUID) -> bool:
    """Whether this keeper may record a result for this attendee."""
    return write_scope(principal).covers(owner_id=user_id, department_id=department_id)
