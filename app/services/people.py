"""Managing users and departments (domain §1): admin actions and ``GET /me``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.access.scope import read_scope
from app.domain.access.users import (
    Department,
    User,
    bump,
    check_password_strength,
    check_roles,
    normalise_username,
)
from app.domain.common.errors import (
    Duplicate,
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
)
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.services.ports import Clock, RequestContext
from app.services.ports.access import PasswordHasher, UserFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    email: str
    password: str
    department_id: UUID
    roles: frozenset[Role]


@dataclass(frozen=True)
class UserChanges:
    """Only the fields a client sent; ``None`` means unchanged."""

    display_name: str | None = None
    email: str | None = None
    department_id: UUID | None = None
    roles: frozenset[Role] | None = None


class PeopleService:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    # departments ---------------------------------------------------------------------

    async def create_department(self, ctx: RequestContext, name: str,
                                description: str) -> Department:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            if await uow.departments.name_taken(name):
                raise Duplicate(field="name", value=name)
            department = Department(id=new_id(), name=name, description=description,
                                    active=True, version=1, created_at=now, updated_at=now)
            await uow.departments.add(department)
            self._log(uow, "department.created", "department", department.id, None,
                      department.snapshot(), now)
            await uow.commit()
            return department

    async def ensure_department(self, ctx: RequestContext, name: str) -> Department:
        """The department of that name, created if missing (for tooling and set-up)."""
        async with self._uow(ctx, write=False) as uow:
            existing = await uow.departments.get_by_name(name)
        return existing or await self.create_department(ctx, name, "")

    async def get_department(self, ctx: RequestContext, department_id: UUID) -> Department:
        async with self._uow(ctx, write=False) as uow:
            return await self._department(uow, department_id)

    async def list_departments(self, ctx: RequestContext, active: bool | None,
                               page: PageRequest) -> Page[Department]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.departments.list(active, page)

    async def update_department(self, ctx: RequestContext, department_id: UUID,
                                expected_version: int, *, name: str | None,
                                description: str | None) -> Department:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._department(uow, department_id, for_update=True)
            check_version(current.version, expected_version)
            if name is not None and await uow.departments.name_taken(name, other_than=current.id):
                raise Duplicate(field="name", value=name)
            changed = bump(current, now, name=name if name is not None else current.name,
                           description=description if description is not None
                           else current.description)
            await uow.departments.save(changed)
            self._log(uow, "department.updated", "department", current.id,
                      current.snapshot(), changed.snapshot(), now)
            await uow.commit()
            return changed

    async def set_department_active(self, ctx: RequestContext, department_id: UUID,
                                    expected_version: int, active: bool) -> Department:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._department(uow, department_id, for_update=True)
            check_version(current.version, expected_version)
            if current.active == active:
                raise InvalidState(state="active" if active else "inactive")
            if not active and await uow.users.any_active_in(current.id):
                raise InvalidState(state="has_active_users")
            changed = bump(current, now, active=active)
            await uow.departments.save(changed)
            action = "department.reactivated" if active else "department.deactivated"
            self._log(uow, action, "department", current.id, current.snapshot(),
                      changed.snapshot(), now)
            await uow.commit()
            return changed

    # users ---------------------------------------------------------------------------

    async def create_user(self, ctx: RequestContext, new: NewUser) -> User:
        username = normalise_username(new.username)
        check_password_strength(new.password)
        check_roles(new.roles)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            await self._active_department(uow, new.department_id)
            if await uow.users.get_by_username(username) is not None:
                raise Duplicate(field="username", value=username)
            await self._email_free(uow, new.email, None)
            user = User(id=new_id(), username=username, display_name=new.display_name,
                        email=new.email, department_id=new.department_id, roles=new.roles,
                        active=True, password_hash=await self._hasher.hash(new.password), version=1,
                        created_at=now, updated_at=now)
            await uow.users.add(user)
            self._log(uow, "user.created", "user", user.id, None, user.snapshot(), now)
            await uow.commit()
            return user

    async def get_user(self, ctx: RequestContext, user_id: UUID) -> User:
        async with self._uow(ctx, write=False) as uow:
            return await self._visible_user(uow, ctx, user_id)

    async def list_users(self, ctx: RequestContext, filters: UserFilter,
                         page: PageRequest) -> Page[User]:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            return await uow.users.list(read_scope(ctx.principal), filters, page)

    async def user_by_username(self, username: str) -> User:
        """For tooling (CLI, demo data) that knows people by login name."""
        async with self._uow(RequestContext(None), write=False) as uow:
            user = await uow.users.get_by_username(normalise_username(username))
        if user is None:
            raise NotFound(entity="user")
        return user

    async def me(self, ctx: RequestContext) -> User:
        """Every signed-in user reads themselves, whatever their record scope (a finance
        user reaches no user records, yet must see their own profile)."""
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            user = await uow.users.get(ctx.principal.id)
        if user is None:
            raise NotFound(entity="user")
        return user

    async def update_user(self, ctx: RequestContext, user_id: UUID, expected_version: int,
                          changes: UserChanges) -> User:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._visible_user(uow, ctx, user_id, for_update=True)
            check_version(current.version, expected_version)
            updates: dict[str, object] = {}
            if changes.display_name is not None:
                updates["display_name"] = changes.display_name
            if changes.email is not None and changes.email != current.email:
                await self._email_free(uow, changes.email, current.id)
                updates["email"] = changes.email
            if changes.department_id is not None and changes.department_id != current.department_id:
                await self._active_department(uow, changes.department_id)
                updates["department_id"] = changes.department_id
            if changes.roles is not None:
                check_roles(changes.roles)
                self._refuse_self_lockout(ctx, current, changes.roles)
                updates["roles"] = changes.roles
            changed = bump(current, now, **updates)
            await uow.users.save(changed)
            self._log(uow, "user.updated", "user", current.id, current.snapshot(),
                      changed.snapshot(), now)
            await uow.commit()
            return changed

    async def set_user_active(self, ctx: RequestContext, user_id: UUID, expected_version: int,
                              active: bool) -> User:
        """Deactivation also revokes every sign-in, so the user is out at once."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._visible_user(uow, ctx, user_id, for_update=True)
            check_version(current.version, expected_version)
            if current.active == active:
                raise InvalidState(state="active" if active else "inactive")
            if not active:
                self._refuse_self_lockout(ctx, current, frozenset())
                await uow.refresh_tokens.revoke_all_of_user(current.id, now)
            else:
                await self._active_department(uow, current.department_id)
            changed = bump(current, now, active=active)
            await uow.users.save(changed)
            action = "user.reactivated" if active else "user.deactivated"
            self._log(uow, action, "user", current.id, current.snapshot(), changed.snapshot(),
                      now)
            await uow.commit()
            return changed

    # helpers -------------------------------------------------------------------------

    @staticmethod
    def _refuse_self_lockout(ctx: RequestContext, user: User, roles: frozenset[Role]) -> None:
        """An administrator cannot take away their own admin role or account."""
        if ctx.principal is not None and ctx.principal.id == user.id and Role.ADMIN not in roles:
            raise InvalidState(state="self_lockout")

    @staticmethod
    async def _email_free(uow: UnitOfWork, email: str, user_id: UUID | None) -> None:
        if await uow.users.email_taken(email, other_than=user_id):
            raise Duplicate(field="email", value=email)

    @staticmethod
    async def _department(uow: UnitOfWork, department_id: UUID, *,
                          for_update: bool = False) -> Department:
        department = await uow.departments.get(department_id, for_update=for_update)
        if department is None:
            raise NotFound(entity="department")
        return department

    async def _active_department(self, uow: UnitOfWork, department_id: UUID) -> None:
        department = await uow.departments.get(department_id)
        if department is None or not department.active:
            raise InvalidInput([FieldError("/department_id", "department_unknown")])

    @staticmethod
    async def _visible_user(uow: UnitOfWork, ctx: RequestContext, user_id: UUID, *,
                            for_update: bool = False) -> User:
        assert ctx.principal is not None
        user = await uow.users.get(user_id, for_update=for_update)
        if user is None or not read_scope(ctx.principal).covers(
                owner_id=user.id, department_id=user.department_id):
            raise NotFound(entity="user")
        return user

    @staticmethod
    def _log(uow: UnitOfWork, action: str, entity_type: str, entity_id: UUID,
             before: dict[str, object] | None, after: dict[str, object], now: datetime) -> None:
        """Every change is audited and announced, in the caller's transaction."""
        uow.record_change(action, entity_type, entity_id, before=before, after=after,
                          event={"after": after}, at=now)

