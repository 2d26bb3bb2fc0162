"""What a plan carries: the commitment to a customer (scope, objectives, milestones and
deliverables, budget), who runs it, and the revisions of its baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID


class PlanState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset({PlanState.DRAFT, PlanState.ACTIVE})


class TeamPart(StrEnum):
    ACCOUNT_MANAGER = "account_manager"  # 客户经理
    PROJECT_MANAGER = "project_manager"  # 项目经理
    TECH_EXPERT = "tech_expert"  # 技术专家
    OTHER = "other"


class Horizon(StrEnum):
    SHORT_TERM = "short_term"
    LONG_TERM = "long_term"


class MilestoneStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class DeliverableKind(StrEnum):
    DOCUMENT = "document"
    SOFTWARE = "software"
    SERVICE = "service"
    TRAINING = "training"  # 客户培训
    OTHER = "other"


@dataclass(frozen=True)
class TeamMember:
    user_id: UUID
    part: TeamPart
    note: str = ""


@dataclass(frozen=True)
class Constraints:
    """约束: what limits the plan, as the people who agreed it wrote it down."""

    time: str = ""
    budget: str = ""
    resources: str = ""


@dataclass
class Objective:
    """目标: a target on a metric. Whether it is achieved is derived (``figures``), never
    typed: a target below the baseline means lower is better (e.g. response time)."""

    id: UUID
    title: str
    horizon: Horizon
    metric: str
    target: Decimal
    unit: str = ""
    baseline: Decimal | None = None
    due_date: date | None = None
    actual: Decimal | None = None
    measured_at: date | None = None


@dataclass(frozen=True)
class Training:
    attendees: tuple[str, ...] = ()
    date: date | None = None
    materials: tuple[str, ...] = ()


@dataclass
class Deliverable:
    id: UUID
    title: str
    kind: DeliverableKind
    delivered_at: date | None = None
    training: Training | None = None  # for kind training only


@dataclass
class Milestone:
    """``planned_date`` belongs to the baseline once the plan is active; the actual date,
    status and acceptance are progress, recorded freely."""

    id: UUID
    title: str
    planned_date: date
    owner_id: UUID | None = None
    status: MilestoneStatus = MilestoneStatus.PENDING
    actual_date: date | None = None
    acceptance_note: str = ""
    deliverables: list[Deliverable] = field(default_factory=list)


@dataclass
class BudgetLine:
    """``planned`` belongs to the baseline once the plan is active; ``actual`` is recorded
    freely."""

    id: UUID
    category: str
    planned: Decimal
    currency: str = "CNY"
    actual: Decimal = Decimal("0")
    note: str = ""


# The expectations register (预期管理); its rules and derived gaps are in ``expectations``.

class ExpectationCategory(StrEnum):
    SCOPE = "scope"
    TIME = "time"
    QUALITY = "quality"
    COST = "cost"
    SERVICE = "service"


class ExpectationChannel(StrEnum):
    MEETING = "meeting"
    PHONE = "phone"
    EMAIL = "email"
    VISIT = "visit"
    IM = "im"
    DOCUMENT = "document"


class Agreement(StrEnum):
    AGREED = "agreed"  # committed as the customer said it
    COMMITTED_INSTEAD = "committed_instead"  # something else was committed
    NOT_COMMITTED = "not_committed"


COMMITTED = frozenset({Agreement.AGREED, Agreement.COMMITTED_INSTEAD})


class Outcome(StrEnum):
    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


@dataclass
class Expectation:
    id: UUID
    statement: str
    category: ExpectationCategory
    contact_id: UUID | None  # who said it: a contact of the customer
    stated_on: date
    channel: ExpectationChannel
    realistic: bool | None = None
    unrealistic_reason: str = ""
    agreement: Agreement | None = None
    commitment: str = ""  # what was committed instead
    objective_id: UUID | None = None  # what carries the commitment
    milestone_id: UUID | None = None
    outcome: Outcome | None = None
    evidence: str = ""
    reviewed_on: date | None = None



@dataclass
class Plan:
    id: UUID
    customer_id: UUID
    department_id: UUID  # the customer's department when the plan was made (for reports)
    title: str
    scope_statement: str
    owner_id: UUID
    team: list[TeamMember]
    constraints: Constraints
    planned_start: date | None
    planned_end: date | None
    state: PlanState
    version: int
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    objectives: list[Objective] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    budget_lines: list[BudgetLine] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    revision: int | None = None  # the baseline's revision number, once active
    activated_at: datetime | None = None
    closed_at: datetime | None = None
    cancel_reason: str = ""
    # Read with the plan, not stored on it: the customer's manager now.
    customer_owner_id: UUID | None = None

    def milestone(self, milestone_id: UUID) -> Milestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)

    def budget_line(self, line_id: UUID) -> BudgetLine | None:
        return next((b for b in self.budget_lines if b.id == line_id), None)

    def objective(self, objective_id: UUID) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)

    def snapshot(self) -> dict[str, Any]:
        return {"title": self.title, "state": self.state, "owner_id": self.owner_id,
                "scope_statement": self.scope_statement, "revision": self.revision,
                "milestones": len(self.milestones), "objectives": len(self.objectives),
                "budget_lines": len(self.budget_lines)}


@dataclass(frozen=True)
class Revision:
    """One state of the baseline: number 0 is frozen at activation, each later one by an
    applied amendment citing its change request."""

    plan_id: UUID
    number: int
    content: dict[str, Any]  # ``baseline.content`` of the plan after it
    change_request_id: UUID | None
    amendment_id: UUID | None
    created_by: UUID
    created_at: datetime
    summary: dict[str, Any] = field(default_factory=dict)  # what changed from the previous


class AmendmentState(StrEnum):
    PROPOSED = "proposed"
    APPLIED = "applied"


@dataclass
class Amendment:
    """A proposed change of an active plan's baseline, attached to a change request of the
    same customer; applied once that change request is approved."""

    id: UUID
    plan_id: UUID
    change_request_id: UUID
    changes: dict[str, Any]  # ``baseline.AmendmentChanges.to_dict()``
    state: AmendmentState
    created_by: UUID
    created_at: datetime
    applied_by: UUID | None = None
    applied_at: datetime | None = None
    revision: int | None = None
