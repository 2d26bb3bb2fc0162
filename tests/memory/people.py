"""Users and departments in memory (``UserRepository``, ``DepartmentRepository``)."""

from __future__ import annotations

from uuid import UUID

from app.domain.access.users import Department, User
from tests.memory.store import Rows


class MemoryUserRepository(Rows[User]):
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        return self._found(user_id)

    async def get_by_username(self, username: str) -> User | None:
        return next((self._found(u.id) for u in self._rows.values()
                     if u.username == username), None)

    async def any_active_in(self, department_id: UUID) -> bool:
        return any(u.active and u.department_id == department_id for u in self._rows.values())


class MemoryDepartmentRepository(Rows[Department]):
    async def get(self, department_id: UUID, *,
                  for_update: bool = False) -> Department | None:
        return self._found(department_id)
