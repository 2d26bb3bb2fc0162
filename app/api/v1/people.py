"""Departments, users and ``/me`` (domain §1)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.problems import error_responses
from app.api.security import allow, signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.people import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.domain.access.roles import Role, Scope
from app.domain.access.users import Department, User
from app.domain.common.paging import PageRequest
from app.services.people import NewUser, UserChanges
from app.services.ports import RequestContext
from app.services.ports.access import UserFilter

router = feature_router("people")

Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Version = Annotated[int, Depends(if_match)]
USER_READERS = allow(Role.ADMIN, Role.DEPARTMENT_HEAD, Role.EXECUTIVE, Role.AUDITOR,
                     Role.ANALYST, scopes=(Scope.USERS_READ,))


def _user(response: Response, user: User) -> UserOut:
    set_etag(response, user.version)
    return _user_out(user)


def _user_out(user: User) -> UserOut:
    return UserOut.model_validate({**user.__dict__, "roles": sorted(user.roles)})


def _department(response: Response, department: Department) -> DepartmentOut:
    set_etag(response, department.version)
    return DepartmentOut.model_validate(department)


# me ----------------------------------------------------------------------------------

@router.get("/me", response_model=UserOut, summary="The signed-in user")
async def me(request: Request, response: Response,
             ctx: Annotated[RequestContext, Depends(signed_in())]) -> UserOut:
    return _user(response, await services(request).people.me(ctx))


# departments -------------------------------------------------------------------------

@router.post("/departments", response_model=DepartmentOut, status_code=201,
             summary="Create a department", responses=error_responses(409),
             dependencies=[Idempotent])
async def create_department(request: Request, response: Response, body: DepartmentCreate,
                            ctx: Admin) -> DepartmentOut:
    department = await services(request).people.create_department(ctx, body.name,
                                                                  body.description)
    response.headers["Location"] = f"/api/v1/departments/{department.id}"
    return _department(response, department)


@router.get("/departments", response_model=ListPage[DepartmentOut], summary="List departments")
async def list_departments(
    request: Request,
    ctx: Annotated[RequestContext, Depends(signed_in(scopes=(Scope.DEPARTMENTS_READ,)))],
    page: Annotated[PageRequest, Depends(page_params(["name", "created_at"], "name"))],
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones")] = None,
) -> dict[str, object]:
    result = await services(request).people.list_departments(ctx, active, page)
    return list_page(request, result, page, DepartmentOut.model_validate)


@router.get("/departments/{department_id}", response_model=DepartmentOut,
            summary="Read a department", responses=error_responses(404))
async def get_department(
    request: Request, response: Response, department_id: UUID,
    ctx: Annotated[RequestContext, Depends(signed_in(scopes=(Scope.DEPARTMENTS_READ,)))],
) -> DepartmentOut:
    return _department(response, await services(request).people.get_department(ctx,
                                                                                 department_id))


@router.patch("/departments/{department_id}", response_model=DepartmentOut,
              summary="Rename or describe a department",
              responses=error_responses(404, 409, 412, 428))
async def update_department(request: Request, response: Response, department_id: UUID,
                            body: DepartmentUpdate, ctx: Admin,
                            version: Version) -> DepartmentOut:
    department = await services(request).people.update_department(
        ctx, department_id, version, name=body.name, description=body.description)
    return _department(response, department)


@router.post("/departments/{department_id}/deactivate", response_model=DepartmentOut,
             summary="Deactivate a department (it must have no active users)",
             responses=error_responses(404, 409, 412, 428), dependencies=[Idempotent])
async def deactivate_department(request: Request, response: Response, department_id: UUID,
                                ctx: Admin, version: Version) -> DepartmentOut:
    department = await services(request).people.set_department_active(
        ctx, department_id, version, active=False)
    return _department(response, department)


@router.post("/departments/{department_id}/reactivate", response_model=DepartmentOut,
             summary="Reactivate a department", responses=error_responses(404, 409, 412, 428),
             dependencies=[Idempotent])
async def reactivate_department(request: Request, response: Response, department_id: UUID,
                                ctx: Admin, version: Version) -> DepartmentOut:
    department = await services(request).people.set_department_active(
        ctx, department_id, version, active=True)
    return _department(response, department)


# users -------------------------------------------------------------------------------

@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user",
             responses=error_responses(409), dependencies=[Idempotent])
async def create_user(request: Request, response: Response, body: UserCreate,
                      ctx: Admin) -> UserOut:
    user = await services(request).people.create_user(ctx, NewUser(
        username=body.username, display_name=body.display_name, email=str(body.email),
        password=body.password, department_id=body.department_id,
        roles=frozenset(body.roles)))
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return _user(response, user)


@router.get("/users", response_model=ListPage[UserOut], summary="List users in your scope")
async def list_users(
    request: Request,
    ctx: Annotated[RequestContext, Depends(USER_READERS)],
    page: Annotated[PageRequest, Depends(page_params(["created_at", "username"], "created_at"))],
    department_id: Annotated[UUID | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> dict[str, object]:
    """Department heads see their own department; admin, executives, auditors and
    analysts see everyone."""
    result = await services(request).people.list_users(
        ctx, UserFilter(department_id=department_id, role=role, active=active), page)
    return list_page(request, result, page, _user_out)


@router.get("/users/{user_id}", response_model=UserOut, summary="Read a user",
            responses=error_responses(404))
async def get_user(request: Request, response: Response, user_id: UUID,
                   ctx: Annotated[RequestContext, Depends(USER_READERS)]) -> UserOut:
    return _user(response, await services(request).people.get_user(ctx, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, summary="Change a user",
              responses=error_responses(404, 409, 412, 428))
async def update_user(request: Request, response: Response, user_id: UUID, body: UserUpdate,
                      ctx: Admin, version: Version) -> UserOut:
    changes = UserChanges(
        display_name=body.display_name, email=str(body.email) if body.email else None,
        department_id=body.department_id,
        roles=frozenset(body.roles) if body.roles is not None else None)
    return _user(response, await services(request).people.update_user(ctx, user_id, version,
                                                                       changes))


@router.post("/users/{user_id}/deactivate", response_model=UserOut,
             summary="Deactivate a user (signs them out everywhere)",
             responses=error_responses(404, 409, 412, 428), dependencies=[Idempotent])
async def deactivate_user(request: Request, response: Response, user_id: UUID, ctx: Admin,
                          version: Version) -> UserOut:
    return _user(response, await services(request).people.set_user_active(
        ctx, user_id, version, active=False))


@router.post("/users/{user_id}/reactivate", response_model=UserOut,
             summary="Reactivate a user", responses=error_responses(404, 409, 412, 428),
             dependencies=[Idempotent])
async def reactivate_user(request: Request, response: Response, user_id: UUID, ctx: Admin,
                          version: Version) -> UserOut:
    return _user(response, await services(request).people.set_user_active(
        ctx, user_id, version, active=True))
