"""Record scope (domain §1) for every combination of roles: who reads and who writes
which records. ``RecordScope.covers`` is the in-memory twin of the SQL filter, so these
properties hold for every list and read the repositories answer. Pure: no database."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope

ME, OTHER_USER = uuid.uuid4(), uuid.uuid4()
MY_DEPT, OTHER_DEPT = uuid.uuid4(), uuid.uuid4()
ALL_ROLE_SETS = [frozenset(c) for n in range(len(Role) + 1)
                 for c in itertools.combinations(Role, n)]
WRITERS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER})
NO_SCOPE_ROLES = frozenset(Role) - WRITERS - READ_ACROSS_DEPARTMENTS
relaxed = settings(deadline=None)


@dataclass(frozen=True)
class Record:
    owner_id: UUID | None
    department_id: UUID | None
    shared_with_department: bool = False

    def covered_by(self, scope: RecordScope) -> bool:
        return scope.covers(owner_id=self.owner_id, department_id=self.department_id,
                            shared_with_department=self.shared_with_department)


# Every kind of record relative to the caller: mine or not, my department or not, shared
# or not (and an ownerless one).
CATALOGUE = [Record(owner, dept, shared) for owner in (ME, OTHER_USER, None)
             for dept in (MY_DEPT, OTHER_DEPT) for shared in (False, True)]
records = st.builds(Record, st.sampled_from([ME, OTHER_USER, None]) | st.uuids(),
                    st.sampled_from([MY_DEPT, OTHER_DEPT]) | st.uuids(), st.booleans())


def user(roles: frozenset[Role]) -> Principal:
    return Principal(id=ME, kind=PrincipalKind.USER, name="someone", department_id=MY_DEPT,
                     roles=roles)


def spec_may_write(roles: frozenset[Role], record: Record) -> bool:
    """Domain §1 as a table, role by role."""
    if Role.ADMIN in roles:
        return True
    if Role.DEPARTMENT_HEAD in roles:
        return record.department_id == MY_DEPT
    if Role.ACCOUNT_MANAGER in roles:
        return record.owner_id == ME or (record.shared_with_department
                                         and record.department_id == MY_DEPT)
    return False


def spec_may_read(roles: frozenset[Role], record: Record) -> bool:
    return bool(roles & READ_ACROSS_DEPARTMENTS) or spec_may_write(roles, record)


def test_every_role_combination_reaches_exactly_what_the_domain_says() -> None:
    assert len(ALL_ROLE_SETS) == 2 ** len(Role)
    for roles in ALL_ROLE_SETS:
        principal = user(roles)
        read, write = read_scope(principal), write_scope(principal)
        for record in CATALOGUE:
            where = (sorted(roles), record)
            assert record.covered_by(read) == spec_may_read(roles, record), where
            assert record.covered_by(write) == spec_may_write(roles, record), where


@relaxed
@given(st.frozensets(st.sampled_from(Role)), records)
def test_write_scope_never_exceeds_read_scope(roles: frozenset[Role], record: Record) -> None:
    principal = user(roles)
    if record.covered_by(write_scope(principal)):
        assert record.covered_by(read_scope(principal))


@relaxed
@given(st.frozensets(st.sampled_from(Role)), st.sampled_from(sorted(READ_ACROSS_DEPARTMENTS)),
       records)
def test_admin_executive_analyst_and_auditor_read_across_departments(
        roles: frozenset[Role], reader: Role, record: Record) -> None:
    scope = read_scope(user(roles | {reader}))
    assert scope.reach is Reach.ALL
    assert record.covered_by(scope)


@relaxed
@given(st.frozensets(st.sampled_from(Role)), records)
def test_only_admin_writes_everywhere(roles: frozenset[Role], record: Record) -> None:
    scope = write_scope(user(roles | {Role.ADMIN}))
    assert scope.reach is Reach.ALL and record.covered_by(scope)
    without = write_scope(user(roles - {Role.ADMIN}))
    assert without.reach is not Reach.ALL


@relaxed
@given(st.frozensets(st.sampled_from(sorted(frozenset(Role) - {Role.ADMIN}))), records)
def test_a_department_head_writes_only_their_department(roles: frozenset[Role],
                                                        record: Record) -> None:
    principal = user(roles | {Role.DEPARTMENT_HEAD})
    write = write_scope(principal)
    assert record.covered_by(write) == (record.department_id == MY_DEPT)
    if not roles & READ_ACROSS_DEPARTMENTS:
        assert read_scope(principal) == write


@relaxed
@given(st.frozensets(st.sampled_from(sorted(NO_SCOPE_ROLES | READ_ACROSS_DEPARTMENTS
                                            - {Role.ADMIN}))), records)
def test_an_account_manager_reaches_owned_and_shared_records_only(
        roles: frozenset[Role], record: Record) -> None:
    principal = user(roles | {Role.ACCOUNT_MANAGER})
    write = write_scope(principal)
    expected = record.owner_id == ME or (record.shared_with_department
                                         and record.department_id == MY_DEPT)
    assert record.covered_by(write) == expected
    if not roles & READ_ACROSS_DEPARTMENTS:
        assert record.covered_by(read_scope(principal)) == expected


@relaxed
@given(st.frozensets(st.sampled_from(sorted(NO_SCOPE_ROLES))), records)
def test_roles_without_a_record_scope_see_nothing(roles: frozenset[Role],
                                                  record: Record) -> None:
    principal = user(roles)
    assert read_scope(principal).reach is Reach.NONE
    assert not record.covered_by(read_scope(principal))
    assert not record.covered_by(write_scope(principal))


@pytest.mark.parametrize("reader", sorted(READ_ACROSS_DEPARTMENTS - {Role.ADMIN}))
def test_reading_across_departments_grants_no_writes(reader: Role) -> None:
    scope = write_scope(user(frozenset({reader})))
    assert scope.reach is Reach.NONE
    assert not any(record.covered_by(scope) for record in CATALOGUE)


@relaxed
@given(st.frozensets(st.sampled_from(Role)), st.none() | st.uuids(), records)
def test_an_api_key_reaches_all_departments_or_only_its_own(
        roles: frozenset[Role], department: UUID | None, record: Record) -> None:
    """Service accounts have no roles that matter: the key's department bounds it."""
    key = Principal(id=uuid.uuid4(), kind=PrincipalKind.SERVICE, name="crm-sync",
                    department_id=department, roles=roles)
    for scope in (read_scope(key), write_scope(key)):
        expected = department is None or record.department_id == department
        assert record.covered_by(scope) == expected
