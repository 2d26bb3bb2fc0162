"""The SQL twin of ``RecordScope.covers``: feature repositories filter with it so
out-of-scope rows are never read (and so answer 404)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from app.domain.access.scope import Reach, RecordScope


def scope_filter(scope: RecordScope, *, department: ColumnElement[Any],
                 owner: ColumnElement[Any] | None = None,
                 shared_with_department: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    if scope.reach is Reach.ALL:
        return true()
    if scope.reach is Reach.DEPARTMENT:
        return department == scope.department_id
    if scope.reach is Reach.OWN and owner is not None:
        own = owner == scope.user_id
        if shared_with_department is None:
            return own
        return or_(own, and_(shared_with_department.is_(True), department == scope.department_id))
    return false()
