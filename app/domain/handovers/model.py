"""Handovers (客户移交, domain §4): one customer moving from one account manager to another,
with the checklist both verify, the findings that block sign-off, the signatures and the
follow-up. A batch (e.g. on resignation) is several handovers created together, each with
its own level, checklist and state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class HandoverReason(StrEnum):
    RESIGNATION = "resignation"  # 离职
    REASSIGNMENT = "reassignment"  # 岗位调整
    TERRITORY_CHANGE = "territory_change"  # 区域调整
    WORKLOAD_BALANCING = "workload_balancing"  # 工作量均衡
    CUSTOMER_REQUEST = "customer_request"  # 客户要求


class HandoverLevel(StrEnum):
    STRICT = "strict"
    STANDARD = "standard"
    LIGHT = "light"


class HandoverState(StrEnum):
    DRAFT = "draft"
    NOTIFIED = "notified"
    PREPARING = "preparing"
    MEETING_HELD = "meeting_held"
    SIGNED = "signed"
    TRANSFERRED = "transferred"
    FOLLOWED_UP = "followed_up"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset({HandoverState.DRAFT, HandoverState.NOTIFIED, HandoverState.PREPARING,
                         HandoverState.MEETING_HELD, HandoverState.SIGNED})


class Stakeholder(StrEnum):
    """Who is told about a handover (通知相关方)."""

    HANDING_OVER_MANAGER = "handing_over_manager"
    RECEIVING_MANAGER = "receiving_manager"
    DEPARTMENT_HEAD = "department_head"
    CUSTOMER_CONTACT = "customer_contact"


class SignatureRole(StrEnum):
    HANDING_OVER = "handing_over"
    RECEIVING = "receiving"
    DEPARTMENT_HEAD = "department_head"


class Side(StrEnum):
    """Which of the two managers verifies an item (核对)."""

    HANDING_OVER = "handing_over"
    RECEIVING = "receiving"


@dataclass(frozen=True)
class Requirements:
    """What a level demands (domain §4 table); steps not demanded are skipped, not faked."""

    notify: frozenset[Stakeholder]
    verify_by_both: bool
    meeting: bool
    minutes: bool
    signatures: tuple[SignatureRole, ...]
    satisfaction_pulse: bool


REQUIREMENTS: dict[HandoverLevel, Requirements] = {
    HandoverLevel.STRICT: Requirements(
        notify=frozenset(Stakeholder), verify_by_both=True, meeting=True, minutes=True,
        signatures=(SignatureRole.HANDING_OVER, SignatureRole.RECEIVING,
                    SignatureRole.DEPARTMENT_HEAD),
        satisfaction_pulse=True),
    HandoverLevel.STANDARD: Requirements(
        notify=frozenset({Stakeholder.HANDING_OVER_MANAGER, Stakeholder.RECEIVING_MANAGER,
                          Stakeholder.DEPARTMENT_HEAD}),
        verify_by_both=True, meeting=False, minutes=False,
        signatures=(SignatureRole.HANDING_OVER, SignatureRole.RECEIVING),
        satisfaction_pulse=False),
    # 资料清单 listed; the receiving manager acknowledges by signing.
    HandoverLevel.LIGHT: Requirements(
        notify=frozenset(), verify_by_both=False, meeting=False, minutes=False,
        signatures=(SignatureRole.RECEIVING,), satisfaction_pulse=False),
}


@dataclass
class ChecklistItem:
    """One material (移交资料) as the service knows it, and who has verified it."""

    key: str
    position: int
    summary: dict[str, Any]
    handing_over_verified_by: UUID | None = None
    handing_over_verified_at: datetime | None = None
    receiving_verified_by: UUID | None = None
    receiving_verified_at: datetime | None = None

    @property
    def verified_by_both(self) -> bool:
        return self.handing_over_verified_at is not None and \
            self.receiving_verified_at is not None


@dataclass
class Finding:
    """A discrepancy raised on an item; while open it blocks sign-off."""

    id: UUID
    item_key: str
    raised_by: UUID
    text: str
    raised_at: datetime
    resolved_by: UUID | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Signature:
    role: SignatureRole
    signer_id: UUID
    signed_at: datetime
    on_behalf_of: UUID | None = None  # the departed handing-over manager a head signs for


@dataclass(frozen=True)
class Notification:
    id: UUID
    stakeholder: Stakeholder
    user_id: UUID | None
    contact_id: UUID | None
    channel: str
    notified_at: datetime
    recorded_by: UUID
    note: str = ""


@dataclass(frozen=True)
class RiskFactor:
    """One reason the handover is risky, and how much it adds to the likelihood."""

    name: str
    value: Any
    points: int


@dataclass(frozen=True)
class HandoverRisk:
    likelihood: int
    impact: int
    level: str
    factors: tuple[RiskFactor, ...]


@dataclass
class Handover:
    id: UUID
    batch_id: UUID | None
    customer_id: UUID
    customer_name: str
    department_id: UUID
    from_manager_id: UUID
    to_manager_id: UUID
    reason: HandoverReason
    planned_date: date | None
    note: str
    level: HandoverLevel
    level_reasons: list[str]
    risk: HandoverRisk
    state: HandoverState
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    version: int
    notified_at: datetime | None = None
    preparation_started_at: datetime | None = None
    meeting: dict[str, Any] | None = None
    meeting_held_at: datetime | None = None
    signed_at: datetime | None = None
    transferred_at: datetime | None = None
    transfer: dict[str, Any] | None = None  # what moved with the customer
    follow_up_due: date | None = None
    follow_up: dict[str, Any] | None = None
    followed_up_at: datetime | None = None
    follow_up_escalated_at: datetime | None = None
    pulse_due_on: date | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    items: list[ChecklistItem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    @property
    def requirements(self) -> Requirements:
        return REQUIREMENTS[self.level]

    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.open]

    def unverified_items(self) -> list[str]:
        if not self.requirements.verify_by_both:
            return []
        return [i.key for i in self.items if not i.verified_by_both]

    def notified(self) -> frozenset[Stakeholder]:
        return frozenset(n.stakeholder for n in self.notifications)

    def missing_signatures(self) -> list[SignatureRole]:
        done = {s.role for s in self.signatures}
        return [r for r in self.requirements.signatures if r not in done]

    def item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.key == key), None)

    def finding(self, finding_id: UUID | None) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps of a handover (no personal data of contacts)."""
        return {"state": self.state, "level": self.level, "customer_id": str(self.customer_id),
                "from_manager_id": str(self.from_manager_id),
                "to_manager_id": str(self.to_manager_id), "version": self.version,
                "signatures": [s.role for s in self.signatures],
                "open_findings": len(self.open_findings())}


@dataclass(frozen=True)
class Step:
    """One step of the process as a reader sees it: required, done or skipped."""

    name: str
    status: str  # "done" | "pending" | "skipped"
    at: datetime | None = None


def steps(h: Handover) -> list[Step]:
    """The process laid out for this handover's level: what is done, what is still to do,
    and what the level does not require (skipped, never faked)."""
    req = h.requirements

    def status(done: bool, required: bool) -> str:
        return "done" if done else ("pending" if required else "skipped")

    materials_done = (not h.unverified_items() and bool(h.items)) if req.verify_by_both \
        else h.signed_at is not None
    return [
        Step("notification", status(h.notified_at is not None, bool(req.notify)), h.notified_at),
        Step("materials", "done" if materials_done else "pending", h.preparation_started_at),
        Step("meeting", status(h.meeting_held_at is not None, req.meeting), h.meeting_held_at),
        Step("sign_off", status(h.signed_at is not None, True), h.signed_at),
        Step("transfer", status(h.transferred_at is not None, True), h.transferred_at),
        Step("follow_up", status(h.followed_up_at is not None, True), h.followed_up_at),
        Step("satisfaction_pulse", "pending" if req.satisfaction_pulse else "skipped", None),
    ]
