"""Who reaches which change requests. A change follows its customer's record scope for
account managers and department heads; finance, project managers and tech experts serve
every department (they approve and assess across them), so they read all changes, as do
the roles that read across departments. Acting on a change is then a matter of the
workflow table, not of scope."""

from __future__ import annotations

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.access.scope import read_scope as customer_read_scope

SHARED_FUNCTIONS = frozenset({Role.FINANCE, Role.PROJECT_MANAGER, Role.TECH_EXPERT})


def read_scope(principal: Principal) -> RecordScope:
    if principal.kind is PrincipalKind.SERVICE:
        return customer_read_scope(principal)
    if principal.roles & (READ_ACROSS_DEPARTMENTS | SHARED_FUNCTIONS):
        return RecordScope(Reach.ALL)
    return customer_read_scope(principal)
