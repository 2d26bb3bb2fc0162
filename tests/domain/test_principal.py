"""The department-head party every workflow names: a head of that very department."""

from __future__ import annotations

import uuid

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role

EAST, WEST = uuid.uuid4(), uuid.uuid4()


def person(department_id: uuid.UUID | None, *roles: Role) -> Principal:
    return Principal(uuid.uuid4(), PrincipalKind.USER, "p", department_id, frozenset(roles))


def test_a_head_heads_their_own_department_only() -> None:
    head = person(EAST, Role.DEPARTMENT_HEAD)
    assert head.heads(EAST)
    assert not head.heads(WEST)


def test_a_member_of_the_department_without_the_role_is_no_head() -> None:
    assert not person(EAST, Role.ACCOUNT_MANAGER, Role.ADMIN).heads(EAST)


def test_a_head_without_a_department_heads_none() -> None:
    assert not person(None, Role.DEPARTMENT_HEAD).heads(EAST)
