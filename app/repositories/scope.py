"""The SQL twin of ``RecordScope.covers``: feature repositories filter with it so
out-of-scope rows are never read (and so answer 404).

A scope's SQL comes in two forms from the same rule: with the scope's values in it
(``filter``), or, for statements built once (``Prepared``), with them as the parameters
``scope_user`` and ``scope_department`` (``condition`` per reach, ``parameters`` per
scope)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Uuid, and_, bindparam, false, or_, true

from app.domain.access.scope import Reach, RecordScope

SCOPE_USER = "scope_user"
SCOPE_DEPARTMENT = "scope_department"


@dataclass(frozen=True)
class ScopedColumns:
    """The columns a table's record scope reads: its department, and for ``Reach.OWN``
    its owner and, where records can be shared, the shared-with-department flag."""

    department: ColumnElement[Any]
    owner: ColumnElement[Any] | None = None
    shared_with_department: ColumnElement[Any] | None = None

    def filter(self, scope: RecordScope) -> ColumnElement[bool]:
        return self._sql(scope.reach, scope.department_id, scope.user_id)

    def condition(self, reach: Reach) -> ColumnElement[bool] | None:
        """``filter``'s SQL for every scope of ``reach``, its values as parameters; None
        when it filters nothing (``Reach.ALL``)."""
        if reach is Reach.ALL:
            return None
        return self._sql(reach, bindparam(SCOPE_DEPARTMENT, type_=Uuid),
                         bindparam(SCOPE_USER, type_=Uuid))

    def parameters(self, scope: RecordScope) -> dict[str, Any] | None:
        """The parameters of ``condition(scope.reach)``; None where that prebuilt shape
        would not say the same as ``filter`` (a missing value compares as IS NULL there)
        or where there is none: build the statement with ``filter`` then."""
        if scope.reach is Reach.ALL:
            return {}
        if scope.reach is Reach.DEPARTMENT and scope.department_id is not None:
            return {SCOPE_DEPARTMENT: scope.department_id}
        if scope.reach is not Reach.OWN or self.owner is None or scope.user_id is None:
            return None
        if self.shared_with_department is None:
            return {SCOPE_USER: scope.user_id}
        if scope.department_id is None:
            return None
        return {SCOPE_USER: scope.user_id, SCOPE_DEPARTMENT: scope.department_id}

    def _sql(self, reach: Reach, department: BindParameter[Any] | Any,
             user: BindParameter[Any] | Any) -> ColumnElement[bool]:
        if reach is Reach.ALL:
            return true()
        if reach is Reach.DEPARTMENT:
            return self.department == department
        if reach is Reach.OWN and self.owner is not None:
            own = self.owner == user
            if self.shared_with_department is None:
                return own
            return or_(own, and_(self.shared_with_department.is_(True),
                                 self.department == department))
        return false()


def scope_filter(scope: RecordScope, *, department: ColumnElement[Any],
                 owner: ColumnElement[Any] | None = None,
                 shared_with_department: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    return ScopedColumns(department, owner, shared_with_department).filter(scope)


def own_row(scope: RecordScope, person: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Where a figure has a row per person (the account-manager report), a caller whose
    reach is their own reads their own row only: what a colleague shares with the
    department, or a handover's other party, stays in that colleague's row."""
    return [person == scope.user_id] if scope.reach is Reach.OWN else []
