"""Who reaches which articles. The knowledge base is shared: every signed-in person reads
all of it. Writing is for the roles that produce knowledge; an author changes their own
articles, a department head those written in their department, an administrator any."""

from __future__ import annotations

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.scope import Reach, RecordScope

WRITERS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER,
                     Role.PROJECT_MANAGER, Role.TECH_EXPERT})


def read_scope(principal: Principal) -> RecordScope:
    return RecordScope(Reach.ALL)


def write_scope(principal: Principal) -> RecordScope:
    """Authors are the records' owners; the article's department is its author's."""
    if Role.ADMIN in principal.roles:
        return RecordScope(Reach.ALL)
    if Role.DEPARTMENT_HEAD in principal.roles:
        return RecordScope(Reach.DEPARTMENT, department_id=principal.department_id)
    if principal.roles & WRITERS:
        return RecordScope(Reach.OWN, user_id=principal.id,
                           department_id=principal.department_id)
    return RecordScope(Reach.NONE)
