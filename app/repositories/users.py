"""Users and departments in SQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy import Uuid, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.roles import Role
from app.domain.access.scope import RecordScope
from app.domain.access.users import Department, User
from app.domain.common.paging import Page, PageRequest
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.tables import departments, user_roles, users
from app.services.ports.access import UserFilter
from app.services.principal_cache import user_changed

_USER_COLUMNS = [users.c[name] for name in (
    "id", "username", "display_name", "email", "department_id", "active", "password_hash",
    "version", "created_at", "updated_at")]
# Every authenticated request reads its user: one round trip for the user and their roles,
# with a statement built once (docs/performance.md).
_USER_WITH_ROLES = (select(*_USER_COLUMNS, user_roles.c.role.label("role_name"))
                    .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
                    .where(users.c.id == bindparam("user_id", type_=Uuid)))
USER_SORTS = {"created_at": users.c.created_at, "username": users.c.username}


class SqlUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _roles_of(self, ids: list[UUID]) -> dict[UUID, frozenset[Role]]:
        if not ids:
            return {}
        rows = await self._conn.execute(
            select(user_roles.c.user_id, user_roles.c.role).where(user_roles.c.user_id.in_(ids)))
        found: dict[UUID, set[Role]] = defaultdict(set)
        for user_id, role in rows:
            found[user_id].add(Role(role))
        return {i: frozenset(found.get(i, ())) for i in ids}

    @staticmethod
    def _user(row: Row[Any], roles: frozenset[Role]) -> User:
        return User(roles=roles, **row._mapping)

    async def _one(self, where: Any, for_update: bool = False) -> User | None:
        stmt = select(*_USER_COLUMNS).where(where)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        if row is None:
            return None
        return self._user(row, (await self._roles_of([row.id]))[row.id])

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        if for_update:
            return await self._one(users.c.id == user_id, for_update)
        rows = (await self._conn.execute(_USER_WITH_ROLES, {"user_id": user_id})).all()
        if not rows:
            return None
        roles = frozenset(Role(r.role_name) for r in rows if r.role_name is not None)
        return User(roles=roles, **{k: v for k, v in rows[0]._mapping.items()
                                    if k != "role_name"})

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(users.c.username == username)

    async def email_taken(self, email: str, *, other_than: UUID | None = None) -> bool:
        cond = func.lower(users.c.email) == email.lower()
        if other_than is not None:
            cond = cond & (users.c.id != other_than)
        return bool(await self._conn.scalar(select(exists().where(cond))))

    async def any_active_in(self, department_id: UUID) -> bool:
        return bool(await self._conn.scalar(select(exists().where(
            users.c.department_id == department_id, users.c.active.is_(True)))))

    async def add(self, user: User) -> None:
        user_changed(user.id)
        values = {c.name: getattr(user, c.name) for c in _USER_COLUMNS}
        await self._conn.execute(insert(users).values(**values))
        await self._write_roles(user)

    async def save(self, user: User) -> None:
        # Signed-in requests of this process stop using a cached principal of this user
        # (app/services/principal_cache.py); other workers within the cache's lifetime.
        user_changed(user.id)
        values = {c.name: getattr(user, c.name) for c in _USER_COLUMNS if c.name != "id"}
        await self._conn.execute(update(users).where(users.c.id == user.id).values(**values))
        await self._conn.execute(delete(user_roles).where(user_roles.c.user_id == user.id))
        await self._write_roles(user)

    async def _write_roles(self, user: User) -> None:
        await self._conn.execute(
            insert(user_roles), [{"user_id": user.id, "role": str(r)} for r in sorted(user.roles)])

    async def list(self, scope: RecordScope, filters: UserFilter,
                   page: PageRequest) -> Page[User]:
        stmt = select(*_USER_COLUMNS).where(
            scope_filter(scope, department=users.c.department_id, owner=users.c.id))
        if filters.department_id is not None:
            stmt = stmt.where(users.c.department_id == filters.department_id)
        if filters.active is not None:
            stmt = stmt.where(users.c.active.is_(filters.active))
        if filters.role is not None:
            stmt = stmt.where(exists().where(
                (user_roles.c.user_id == users.c.id) & (user_roles.c.role == filters.role)))
        rows = (await self._conn.execute(keyset(stmt, USER_SORTS, users.c.id, page))).all()
        roles = await self._roles_of([r.id for r in rows[: page.limit]])
        column = page.sort.field
        return to_page(rows, page, lambda r: self._user(r, roles[r.id]),
                       lambda r: (getattr(r, column), r.id))


_DEPARTMENT_COLUMNS = [departments.c[name] for name in (
    "id", "name", "description", "active", "version", "created_at", "updated_at")]
DEPARTMENT_SORTS = {"name": departments.c.name, "created_at": departments.c.created_at}


class SqlDepartmentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, department_id: UUID, *, for_update: bool = False) -> Department | None:
        stmt = select(*_DEPARTMENT_COLUMNS).where(departments.c.id == department_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return Department(**row._mapping) if row else None

    async def get_by_name(self, name: str) -> Department | None:
        row = (await self._conn.execute(select(*_DEPARTMENT_COLUMNS)
                                        .where(departments.c.name == name))).one_or_none()
        return Department(**row._mapping) if row else None

    async def name_taken(self, name: str, *, other_than: UUID | None = None) -> bool:
        cond = departments.c.name == name
        if other_than is not None:
            cond = cond & (departments.c.id != other_than)
        return bool(await self._conn.scalar(select(exists().where(cond))))

    async def add(self, department: Department) -> None:
        values = {c.name: getattr(department, c.name) for c in _DEPARTMENT_COLUMNS}
        await self._conn.execute(insert(departments).values(**values))

    async def save(self, department: Department) -> None:
        values = {c.name: getattr(department, c.name) for c in _DEPARTMENT_COLUMNS
                  if c.name != "id"}
        await self._conn.execute(
            update(departments).where(departments.c.id == department.id).values(**values))

    async def list(self, active: bool | None, page: PageRequest) -> Page[Department]:
        stmt = select(*_DEPARTMENT_COLUMNS)
        if active is not None:
            stmt = stmt.where(departments.c.active.is_(active))
        rows = (await self._conn.execute(
            keyset(stmt, DEPARTMENT_SORTS, departments.c.id, page))).all()
        column = page.sort.field
        return to_page(rows, page, lambda r: Department(**r._mapping),
                       lambda r: (getattr(r, column), r.id))
