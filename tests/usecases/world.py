"""A small organisation in memory for use-case tests: two departments, a person of every
role the rules distinguish, the services wired as ``app.main`` wires them (over the
in-memory unit of work and a fixed clock), and builders for the rows a scenario starts
from, stored through the repository ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.access.users import Department, User
from app.domain.change_requests.model import (
    ChangeRequest,
    CRCategory,
    CRState,
    CRType,
    Priority,
    Task,
    TaskStatus,
)
from app.domain.common.ids import new_id
from app.domain.customers.model import Customer, CustomerKind, Stage, Tier
from app.domain.feedback.model import (
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.plans.model import Constraints, Plan, PlanState
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import Risk, RiskStatus
from app.domain.surveys.model import Invitation, Trigger
from app.main import HANDOVER_MATERIALS, HANDOVER_TRANSFERS
from app.services.auth import user_principal
from app.services.change_requests import ChangeRequestService
from app.services.customers import CustomerService
from app.services.delegations import DelegationService
from app.services.handovers import HandoverService
from app.services.knowledge import KnowledgeService
from app.services.ports import RequestContext
from app.services.ports.feedback import FeedbackRecord
from tests.memory.store import MemoryStore
from tests.memory.unit_of_work import MemoryUnitOfWorkFactory

# A Monday, 10:00 in Shanghai (the business calendar's zone): inside working hours.
START = datetime.fromisoformat("2025-03-03T02:00:00+00:00")

# Who works here: (name, department, roles).
PEOPLE = (
    ("admin", "east", {Role.ADMIN}),
    ("head_east", "east", {Role.DEPARTMENT_HEAD}),
    ("head_east2", "east", {Role.DEPARTMENT_HEAD}),
    ("head_west", "west", {Role.DEPARTMENT_HEAD}),
    ("am_east", "east", {Role.ACCOUNT_MANAGER}),
    ("am_east2", "east", {Role.ACCOUNT_MANAGER}),
    ("am_west", "west", {Role.ACCOUNT_MANAGER}),
    ("finance", "east", {Role.FINANCE}),
    ("executive", "east", {Role.EXECUTIVE}),
    ("pm", "east", {Role.PROJECT_MANAGER}),
    ("tech", "east", {Role.TECH_EXPERT}),
    ("head_and_finance", "east", {Role.DEPARTMENT_HEAD, Role.FINANCE}),
)


class FixedClock:
    """The time stands still until a test moves it."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class World:
    store: MemoryStore
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    customers: CustomerService
    change_requests: ChangeRequestService
    delegations: DelegationService
    handovers: HandoverService
    departments: dict[str, UUID] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)

    def ctx(self, name: str) -> RequestContext:
        return RequestContext(user_principal(self.people[name]), request_id=f"test-{name}")

    def id(self, name: str) -> UUID:
        return self.people[name].id

    async def seed(self, *rows: Any, tasks: tuple[tuple[ChangeRequest, Task], ...] = ()
                   ) -> None:
        """Rows a scenario starts from, stored through their repository ports."""
        async with self.uow(RequestContext(None)) as uow:
            adders = {Customer: uow.customers.add, ChangeRequest: uow.change_requests.add,
                      Risk: uow.risks.add, FeedbackRecord: uow.feedback.add,
                      Invitation: uow.surveys.add_invitation, Plan: uow.plans.add}
            for row in rows:
                await adders[type(row)](row)
            for cr, task in tasks:
                await uow.change_requests.add_task(cr.id, task)
            await uow.commit()

    # builders ------------------------------------------------------------------------

    def customer(self, owner: str, *, tier: Tier = Tier.B, **fields: Any) -> Customer:
        now = self.clock.now()
        return Customer(**{
            "id": new_id(), "name": f"客户-{new_id().hex[:6]}", "kind": CustomerKind.COMPANY,
            "credit_code": None, "industry": "制造", "region": "上海", "address": "",
            "owner_id": self.id(owner), "department_id": self.people[owner].department_id,
            "shared_with_department": False, "tags": [], "needs": [],
            "preferred_channel": None, "preferred_time": "", "custom_attributes": {},
            "external_refs": {}, "annual_revenue": None, "currency": "CNY",
            "strategic_importance": None, "growth_potential": None,
            "value_score": Decimal(0), "tier_computed": Tier.D, "tier_manual": tier,
            "tier_manual_reason": "test", "stage": Stage.ACTIVE, "churn_reason": None,
            "churn_note": None, "integrity_score": 0, "version": 1, "created_at": now,
            "updated_at": now, **fields})

    def change_request(self, customer: Customer, requester: str, state: CRState,
                       **fields: Any) -> ChangeRequest:
        now = self.clock.now()
        return ChangeRequest(**{
            "id": new_id(), "customer_id": customer.id,
            "department_id": customer.department_id, "owner_id": customer.owner_id,
            "requester_id": self.id(requester), "title": f"变更-{state}",
            "description": "d", "reason": "r", "expected_effect": "e",
            "category": CRCategory.SCOPE, "type": CRType.NORMAL, "priority": Priority.MEDIUM,
            "requested_completion_date": date(2025, 6, 30), "attachments": [],
            "state": state, "round": 1, "currency": "CNY", "version": 1,
            "created_at": now, "updated_at": now, **fields})

    def task(self, assignee: str, status: TaskStatus) -> Task:
        now = self.clock.now()
        return Task(new_id(), f"任务-{status}", self.id(assignee), None, status, None, 1, now,
                    now)

    def risk(self, customer: Customer, owner: str, status: RiskStatus) -> Risk:
        now = self.clock.now()
        return Risk(new_id(), f"风险-{status}", "", customer.id, None, None, None, 2, 2,
                    RiskLevel.MEDIUM, self.id(owner), customer.department_id, "", "", "",
                    None, status, 1, now, now)

    def feedback(self, customer: Customer, owner: str, state: FeedbackState) -> FeedbackRecord:
        now = self.clock.now()
        item = FeedbackItem(new_id(), customer.id, customer.department_id, self.id(owner),
                            FeedbackChannel.PHONE, FeedbackType.SUGGESTION, Severity.LOW, "意见",
                            state, now)
        return FeedbackRecord(item, now + timedelta(days=1), now + timedelta(days=5),
                              self.id(owner), now, now, 1)

    def plan(self, customer: Customer, owner: str, state: PlanState) -> Plan:
        now = self.clock.now()
        return Plan(new_id(), customer.id, customer.department_id, f"方案-{state}", "范围",
                    self.id(owner), [], Constraints(), None, None, state, 1,
                    self.id(owner), now, now)

    def invitation(self, customer: Customer, owner: str, **fields: Any) -> Invitation:
        now = self.clock.now()
        return Invitation(**{
            "id": new_id(), "template_id": new_id(), "customer_id": customer.id,
            "contact_id": new_id(), "department_id": customer.department_id,
            "owner_id": self.id(owner), "trigger": Trigger.MANUAL, "source_id": None,
            "token_hash": new_id().hex, "expires_at": now + timedelta(days=14),
            "created_by": self.id(owner), "created_at": now, **fields})


async def build_world() -> World:
    """The organisation, committed; services as ``app.main.create_app`` builds them."""
    store, clock = MemoryStore(), FixedClock()
    uow = MemoryUnitOfWorkFactory(store, clock)
    customers = CustomerService(uow, clock)
    world = World(
        store, uow, clock, customers,
        ChangeRequestService(uow, clock, KnowledgeService(uow, clock)),
        DelegationService(uow, clock),
        HandoverService(uow, clock, customers,
                        materials=HANDOVER_MATERIALS, transfers=HANDOVER_TRANSFERS))
    now = clock.now()
    async with world.uow(RequestContext(None)) as seed:
        for name in ("east", "west"):
            department = Department(new_id(), name, "", True, 1, now, now)
            world.departments[name] = department.id
            await seed.departments.add(department)
        for name, department_name, roles in PEOPLE:
            user = User(new_id(), name, name, f"{name}@accord.test",
                        world.departments[department_name], frozenset(roles), True, "-", 1,
                        now, now)
            world.people[name] = user
            await seed.users.add(user)
        await seed.commit()
    return world
