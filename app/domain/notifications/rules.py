"""Who is told what (issue 15 §4): each announced event maps to notices, each naming its
audiences. Audiences are values; the use case resolves them to people (role holders,
deputies, a customer's owner) and this module decides again, purely, who of them is told.
A later feature adds its row to ``RULES``: no other code changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import Delegation


class Kind(StrEnum):
    APPROVAL_STEP_ASSIGNED = "approval_step_assigned"
    APPROVAL_STEP_DUE_SOON = "approval_step_due_soon"
    CHANGE_REQUEST_DECIDED = "change_request_decided"
    HANDOVER_STEP = "handover_step"
    HANDOVER_FOLLOW_UP_DUE_SOON = "handover_follow_up_due_soon"
    HANDOVER_FOLLOW_UP_OVERDUE = "handover_follow_up_overdue"
    FEEDBACK_SLA_DUE_SOON = "feedback_sla_due_soon"
    FEEDBACK_SLA_BREACHED = "feedback_sla_breached"
    CUSTOMER_HEALTH_FELL = "customer_health_fell"
    PLAN_ARRIVED = "plan_arrived"
    PLAN_MILESTONE_DUE_SOON = "plan_milestone_due_soon"
    CONTACT_DUE_SOON = "contact_due_soon"
    TRAINING_EXPIRING = "training_expiring"
    TRAINING_LAPSED = "training_lapsed"


# audiences --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    user_id: UUID


@dataclass(frozen=True)
class Approvers:
    """Whoever may decide a step: holders of its role (of its department for a department
    step) and their deputies in force, never the requester (separation of duties)."""

    role: Role
    department_id: UUID | None
    requester_id: UUID | None


@dataclass(frozen=True)
class DepartmentHeads:
    department_id: UUID


@dataclass(frozen=True)
class CustomerOwner:
    """The customer's account manager when the notice is staged (an owner handed over since
    the event is not told about the old one's customer)."""

    customer_id: UUID


Audience = Person | Approvers | DepartmentHeads | CustomerOwner


@dataclass(frozen=True)
class Occurred:
    """An announced event as the rules read it."""

    type: str
    entity_type: str
    entity_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Notice:
    """One thing to tell: its kind, the record it links to, to whom, and what the message
    says about it (title, step, due time…)."""

    kind: Kind
    entity_type: str
    entity_id: str
    audiences: tuple[Audience, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return path_of(self.entity_type, self.entity_id)


PATHS = {"change_request": "/api/v1/change-requests/{}", "handover": "/api/v1/handovers/{}",
         "feedback": "/api/v1/feedback/{}", "customer": "/api/v1/customers/{}",
         "plan": "/api/v1/plans/{}",
         "user": "/api/v1/users/{}/training"}  # users are told only of their training


def path_of(entity_type: str, entity_id: str) -> str:
    return PATHS[entity_type].format(entity_id)


# the rules --------------------------------------------------------------------------------

def _uuid(value: Any) -> UUID | None:
    return UUID(str(value)) if value else None


def _pick(data: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: data[n] for n in names if data.get(n) is not None}


def _step_assigned(e: Occurred, kind: Kind = Kind.APPROVAL_STEP_ASSIGNED) -> list[Notice]:
    """The step that just became current (its data say which), to whoever may decide it."""
    step = e.data.get("current_step")
    if not step:
        return []
    return [Notice(kind, e.entity_type, e.entity_id,
                   (Approvers(Role(step["role"]), _uuid(step.get("department_id")),
                              _uuid(e.data.get("requester_id"))),),
                   {**_pick(e.data, "title"), "step": step["position"], "role": step["role"],
                    "due_at": step.get("due_at")})]


def _decided(e: Occurred) -> list[Notice]:
    """Each decision, to the requester."""
    requester = _uuid(e.data.get("requester_id"))
    if requester is None:
        return []
    return [Notice(Kind.CHANGE_REQUEST_DECIDED, e.entity_type, e.entity_id,
                   (Person(requester),),
                   {**_pick(e.data, "title", "step", "role", "comment"),
                    "decision": e.type.removeprefix("change_request.")})]


def _step_approved(e: Occurred) -> list[Notice]:
    return _decided(e) + _step_assigned(e)


def _handover_parties(e: Occurred, *, managers: tuple[str, ...]) -> tuple[Audience, ...]:
    people: list[Audience] = [Person(u) for u in (_uuid(e.data.get(m)) for m in managers) if u]
    department = _uuid(e.data.get("department_id"))
    return (*people, DepartmentHeads(department)) if department else tuple(people)


def _handover_step(e: Occurred) -> list[Notice]:
    """Each step of a handover, to both managers and the department's heads."""
    return [Notice(Kind.HANDOVER_STEP, e.entity_type, e.entity_id,
                   _handover_parties(e, managers=("from_manager_id", "to_manager_id")),
                   {**_pick(e.data, "customer_name", "state"),
                    "step": e.type.removeprefix("handover.")})]


def _follow_up(kind: Kind, *, heads: bool) -> Callable[[Occurred], list[Notice]]:
    def rule(e: Occurred) -> list[Notice]:
        audiences = _handover_parties(e, managers=("to_manager_id",))
        if not heads:
            audiences = tuple(a for a in audiences if not isinstance(a, DepartmentHeads))
        return [Notice(kind, e.entity_type, e.entity_id, audiences,
                       _pick(e.data, "customer_name", "follow_up_due"))]
    return rule


def _to_owner(kind: Kind) -> Callable[[Occurred], list[Notice]]:
    """Feedback clocks: to the item's owner."""
    def rule(e: Occurred) -> list[Notice]:
        owner = _uuid(e.data.get("owner_id"))
        if owner is None:
            return []
        clock = e.data.get("clock") or e.type.removeprefix("feedback.").removesuffix(
            "_overdue")  # a breach names its clock in its type
        return [Notice(kind, e.entity_type, e.entity_id, (Person(owner),),
                       {**_pick(e.data, "type", "severity", "due_at"), "clock": clock})]
    return rule


def _health_fell(e: Occurred) -> list[Notice]:
    return [Notice(Kind.CUSTOMER_HEALTH_FELL, e.entity_type, e.entity_id,
                   (CustomerOwner(UUID(e.entity_id)),), _pick(e.data, "score", "threshold"))]


def _plan_arrived(e: Occurred) -> list[Notice]:
    """A new plan's owner (the customer's manager unless someone else was named) is told;
    ``plan.created`` carries the ``owner_id`` and ``title``."""
    owner = _uuid(e.data.get("owner_id"))
    return [Notice(Kind.PLAN_ARRIVED, e.entity_type, e.entity_id, (Person(owner),),
                   _pick(e.data, "title"))] if owner else []


def _milestone_due(e: Occurred) -> list[Notice]:
    """To the milestone's owner, or the plan's when it names none (the event says which)."""
    owner = _uuid(e.data.get("owner_id"))
    return [Notice(Kind.PLAN_MILESTONE_DUE_SOON, e.entity_type, e.entity_id, (Person(owner),),
                   _pick(e.data, "plan_title", "milestone_id", "title", "planned_date"))
            ] if owner else []


def _contact_due(e: Occurred) -> list[Notice]:
    """To the customer's manager when the reminder is staged."""
    return [Notice(Kind.CONTACT_DUE_SOON, e.entity_type, e.entity_id,
                   (CustomerOwner(UUID(e.entity_id)),), _pick(e.data, "customer_name",
                                                              "due_on"))]


def _to_trainee(kind: Kind) -> Callable[[Occurred], list[Notice]]:
    """Training: the person whose completion is about to lapse, or has."""
    def rule(e: Occurred) -> list[Notice]:
        return [Notice(kind, e.entity_type, e.entity_id, (Person(UUID(e.entity_id)),),
                       _pick(e.data, "course_title", "valid_through"))]
    return rule


HANDOVER_STEPS = ("created", "notified", "preparation_started", "meeting_held", "signed",
                  "transferred", "followed_up", "cancelled")

RULES: dict[str, Callable[[Occurred], list[Notice]]] = {
    "change_request.submitted": _step_assigned,  # an emergency's one executive step
    "change_request.assessment_concluded": _step_assigned,
    "change_request.step_approved": _step_approved,
    "change_request.approved": _decided,
    "change_request.rejected": _decided,
    "change_request.returned": _decided,
    "change_request.step_due_soon": lambda e: _step_assigned(e, Kind.APPROVAL_STEP_DUE_SOON),
    **{f"handover.{step}": _handover_step for step in HANDOVER_STEPS},
    "handover.follow_up_due_soon": _follow_up(Kind.HANDOVER_FOLLOW_UP_DUE_SOON, heads=False),
    "handover.follow_up_overdue": _follow_up(Kind.HANDOVER_FOLLOW_UP_OVERDUE, heads=True),
    "feedback.acknowledge_overdue": _to_owner(Kind.FEEDBACK_SLA_BREACHED),
    "feedback.resolve_overdue": _to_owner(Kind.FEEDBACK_SLA_BREACHED),
    "feedback.sla_due_soon": _to_owner(Kind.FEEDBACK_SLA_DUE_SOON),
    "customer.health_below_threshold": _health_fell,
    "plan.created": _plan_arrived,
    "training.expiring": _to_trainee(Kind.TRAINING_EXPIRING),
    "training.lapsed": _to_trainee(Kind.TRAINING_LAPSED),
    "plan.milestone_due_soon": _milestone_due,
    "customer.contact_due_soon": _contact_due,
}


def notices_for(event: Occurred) -> list[Notice]:
    """What ``event`` tells, and to whom; most events tell no one."""
    rule = RULES.get(event.type)
    return rule(event) if rule else []


# resolving approvers ------------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    """An active user who holds a role."""

    user_id: UUID
    department_id: UUID


def approvers(audience: Approvers, holders: Iterable[Holder],
              delegations: Iterable[Delegation], now: datetime) -> frozenset[UUID]:
    """The holders of the step's role who could decide it, and the deputies in force for
    anyone who could (the rule ``approval_policy.check_decider`` applies when they act);
    never the requester."""
    def eligible(roles: frozenset[Role], department_id: UUID | None) -> bool:
        return audience.role in roles and (audience.department_id is None
                                           or department_id == audience.department_id)

    told = {h.user_id for h in holders if eligible(frozenset({audience.role}), h.department_id)}
    told |= {d.deputy_id for d in delegations
             if d.role is audience.role and d.active(now)
             and d.delegator_id != audience.requester_id
             and eligible(d.delegator_roles, d.delegator_department_id)}
    return frozenset(told - {audience.requester_id})
