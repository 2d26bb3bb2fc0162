"""Request and response bodies for users, departments and ``/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, EmailStr, Field

from app.api.v1.schemas.base import Input, Output, output_of
from app.domain.access.roles import Role
from app.domain.access.users import MIN_PASSWORD_LENGTH, Department

Name = Annotated[str, Field(min_length=1, max_length=100)]
Email = Annotated[EmailStr, Field(max_length=254)]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]


class DepartmentCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "华东大客户部", "description": "上海、江苏、浙江的重点客户"}]})

    name: Name = Field(examples=["华东大客户部"])
    description: str = Field("", max_length=2000)


class DepartmentUpdate(Input):
    name: Name = Field(None)  # type: ignore[assignment]
    description: str = Field(None, max_length=2000)  # type: ignore[assignment]


DepartmentOut = output_of(Department, "DepartmentOut")


class UserCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "username": "zhang.wei", "display_name": "张伟", "email": "zhang.wei@example.cn",
        "password": "correct-horse-battery-9",
        "department_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "roles": ["account_manager"]}]})

    username: str = Field(min_length=2, max_length=64, examples=["zhang.wei"])
    display_name: Name = Field(examples=["张伟"])
    email: Email = Field(examples=["zhang.wei@example.cn"])
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    department_id: UUID
    roles: Roles = Field(examples=[["account_manager"]])


class UserUpdate(Input):
    """Only the fields sent change. Roles are replaced as a whole."""

    display_name: Name = Field(None)  # type: ignore[assignment]
    email: Email = Field(None)  # type: ignore[assignment]
    department_id: UUID = Field(None)  # type: ignore[assignment]
    roles: Roles = Field(None)  # type: ignore[assignment]


class UserOut(Output):
    id: UUID
    username: str
    display_name: str
    email: str
    department_id: UUID
    roles: list[Role]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
