"""Customer plans in SQL. A plan's record scope is its customer's (the join below), widened
by the plans one owns; its parts (objectives, milestones, budget, team) are JSON on its row
and become domain values here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.common.paging import Page, PageRequest
from app.domain.plans.access import PlanReach
from app.domain.plans.model import (
    OPEN_STATES,
    Agreement,
    Amendment,
    AmendmentState,
    BudgetLine,
    Constraints,
    Deliverable,
    DeliverableKind,
    Expectation,
    ExpectationCategory,
    ExpectationChannel,
    Horizon,
    Milestone,
    MilestoneStatus,
    Objective,
    Outcome,
    Plan,
    PlanState,
    Revision,
    TeamMember,
    TeamPart,
    Training,
)
from app.domain.plans.reports import ProgressReport, ReportState
from app.repositories.filters import where_given
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.tables_customers import customers
from app.repositories.tables_plans import plan_amendments, plan_reports, plan_revisions, plans

SORTS = {"updated_at": plans.c.updated_at, "created_at": plans.c.created_at}
_OPEN = [s.value for s in OPEN_STATES]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _objective_json(o: Objective) -> dict[str, Any]:
    return {"id": str(o.id), "title": o.title, "horizon": o.horizon.value, "metric": o.metric,
            "target": str(o.target), "unit": o.unit, "baseline": _str(o.baseline),
            "due_date": _iso(o.due_date), "actual": _str(o.actual),
            "measured_at": _iso(o.measured_at)}


def _objective(d: dict[str, Any]) -> Objective:
    return Objective(id=UUID(d["id"]), title=d["title"], horizon=Horizon(d["horizon"]),
                     metric=d["metric"], target=Decimal(d["target"]), unit=d["unit"],
                     baseline=_dec(d["baseline"]), due_date=_day(d["due_date"]),
                     actual=_dec(d["actual"]), measured_at=_day(d["measured_at"]))


def _deliverable_json(d: Deliverable) -> dict[str, Any]:
    t = d.training
    return {"id": str(d.id), "title": d.title, "kind": d.kind.value,
            "delivered_at": _iso(d.delivered_at),
            "training": None if t is None else {
                "attendees": list(t.attendees), "date": _iso(t.date),
                "materials": list(t.materials)}}


def _deliverable(d: dict[str, Any]) -> Deliverable:
    t = d["training"]
    return Deliverable(id=UUID(d["id"]), title=d["title"], kind=DeliverableKind(d["kind"]),
                       delivered_at=_day(d["delivered_at"]),
                       training=None if t is None else Training(
                           tuple(t["attendees"]), _day(t["date"]), tuple(t["materials"])))


def _milestone_json(m: Milestone) -> dict[str, Any]:
    return {"id": str(m.id), "title": m.title, "planned_date": m.planned_date.isoformat(),
            "owner_id": _str(m.owner_id), "status": m.status.value,
            "actual_date": _iso(m.actual_date), "acceptance_note": m.acceptance_note,
            "deliverables": [_deliverable_json(d) for d in m.deliverables]}


def _milestone(d: dict[str, Any]) -> Milestone:
    return Milestone(id=UUID(d["id"]), title=d["title"],
                     planned_date=date.fromisoformat(d["planned_date"]),
                     owner_id=UUID(d["owner_id"]) if d["owner_id"] else None,
                     status=MilestoneStatus(d["status"]), actual_date=_day(d["actual_date"]),
                     acceptance_note=d["acceptance_note"],
                     deliverables=[_deliverable(x) for x in d["deliverables"]])


def _line_json(b: BudgetLine) -> dict[str, Any]:
    return {"id": str(b.id), "category": b.category, "planned": str(b.planned),
            "currency": b.currency, "actual": str(b.actual), "note": b.note}


def _line(d: dict[str, Any]) -> BudgetLine:
    return BudgetLine(id=UUID(d["id"]), category=d["category"], planned=Decimal(d["planned"]),
                      currency=d["currency"], actual=Decimal(d["actual"]), note=d["note"])


def _expectation_json(e: Expectation) -> dict[str, Any]:
    return {"id": str(e.id), "statement": e.statement, "category": e.category.value,
            "contact_id": _str(e.contact_id), "stated_on": e.stated_on.isoformat(),
            "channel": e.channel.value, "realistic": e.realistic,
            "unrealistic_reason": e.unrealistic_reason,
            "agreement": e.agreement.value if e.agreement else None,
            "commitment": e.commitment, "objective_id": _str(e.objective_id),
            "milestone_id": _str(e.milestone_id),
            "outcome": e.outcome.value if e.outcome else None, "evidence": e.evidence,
            "reviewed_on": _iso(e.reviewed_on)}


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def _expectation(d: dict[str, Any]) -> Expectation:
    return Expectation(
        id=UUID(d["id"]), statement=d["statement"], category=ExpectationCategory(d["category"]),
        contact_id=_uuid(d["contact_id"]), stated_on=date.fromisoformat(d["stated_on"]),
        channel=ExpectationChannel(d["channel"]), realistic=d["realistic"],
        unrealistic_reason=d["unrealistic_reason"],
        agreement=Agreement(d["agreement"]) if d["agreement"] else None,
        commitment=d["commitment"], objective_id=_uuid(d["objective_id"]),
        milestone_id=_uuid(d["milestone_id"]),
        outcome=Outcome(d["outcome"]) if d["outcome"] else None, evidence=d["evidence"],
        reviewed_on=_day(d["reviewed_on"]))


def _plan(row: Row[Any]) -> Plan:
    m = row._mapping
    c = m["constraints"]
    return Plan(
        id=m["id"], customer_id=m["customer_id"], department_id=m["customer_department_id"],
        title=m["title"], scope_statement=m["scope_statement"], owner_id=m["owner_id"],
        team=[TeamMember(UUID(t["user_id"]), TeamPart(t["part"]), t["note"]) for t in m["team"]],
        constraints=Constraints(c["time"], c["budget"], c["resources"]),
        planned_start=m["planned_start"], planned_end=m["planned_end"],
        state=PlanState(m["state"]), version=m["version"], created_by=m["created_by"],
        created_at=m["created_at"], updated_at=m["updated_at"],
        objectives=[_objective(o) for o in m["objectives"]],
        milestones=[_milestone(x) for x in m["milestones"]],
        budget_lines=[_line(b) for b in m["budget_lines"]], revision=m["revision"],
        expectations=[_expectation(e) for e in m["expectations"] or ()],
        activated_at=m["activated_at"], closed_at=m["closed_at"],
        cancel_reason=m["cancel_reason"], customer_owner_id=m["customer_owner_id"])


def _values(plan: Plan) -> dict[str, Any]:
    c = plan.constraints
    return {
        "id": plan.id, "customer_id": plan.customer_id, "department_id": plan.department_id,
        "title": plan.title, "scope_statement": plan.scope_statement,
        "owner_id": plan.owner_id,
        "team": [{"user_id": str(t.user_id), "part": t.part.value, "note": t.note}
                 for t in plan.team],
        "constraints": {"time": c.time, "budget": c.budget, "resources": c.resources},
        "planned_start": plan.planned_start, "planned_end": plan.planned_end,
        "state": plan.state.value,
        "objectives": [_objective_json(o) for o in plan.objectives],
        "milestones": [_milestone_json(m) for m in plan.milestones],
        "budget_lines": [_line_json(b) for b in plan.budget_lines],
        "expectations": [_expectation_json(e) for e in plan.expectations],
        "revision": plan.revision, "activated_at": plan.activated_at,
        "closed_at": plan.closed_at, "cancel_reason": plan.cancel_reason,
        "version": plan.version, "created_by": plan.created_by,
        "created_at": plan.created_at, "updated_at": plan.updated_at}


def _amendment(row: Row[Any]) -> Amendment:
    values = dict(row._mapping)
    values["state"] = AmendmentState(values["state"])
    return Amendment(**values)


def _revision(row: Row[Any]) -> Revision:
    return Revision(**dict(row._mapping))


_SELECT = select(plans, customers.c.owner_id.label("customer_owner_id"),
                 customers.c.department_id.label("customer_department_id")).join(
    customers, customers.c.id == plans.c.customer_id)


def reach_filter(reach: PlanReach) -> ColumnElement[bool]:
    """The customer's record scope, or the plan is one's own."""
    customer_scope = scope_filter(reach.scope, department=customers.c.department_id,
                                  owner=customers.c.owner_id,
                                  shared_with_department=customers.c.shared_with_department)
    if reach.owner_id is None:
        return customer_scope
    return or_(customer_scope, plans.c.owner_id == reach.owner_id)


class SqlPlanRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, plan: Plan) -> None:
        await self._conn.execute(insert(plans).values(**_values(plan)))

    async def save(self, plan: Plan) -> None:
        values = _values(plan)
        values.pop("id")
        await self._conn.execute(update(plans).where(plans.c.id == plan.id).values(**values))

    async def get(self, plan_id: UUID, reach: PlanReach, *,
                  for_update: bool = False) -> Plan | None:
        stmt = _SELECT.where(plans.c.id == plan_id, reach_filter(reach))
        if for_update:
            stmt = stmt.with_for_update(of=plans)
        row = (await self._conn.execute(stmt)).one_or_none()
        return _plan(row) if row else None

    async def list(self, reach: PlanReach, filters: Any, page: PageRequest) -> Page[Plan]:
        conditions = [reach_filter(reach)]
        conditions += where_given(((plans.c.customer_id, filters.customer_id),
                                   (plans.c.owner_id, filters.owner_id),
                                   (customers.c.department_id, filters.department_id)))
        if filters.state is not None:
            conditions.append(plans.c.state == filters.state.value)
        stmt = keyset(_SELECT.where(and_(*conditions)), SORTS, plans.c.id, page)
        rows = (await self._conn.execute(stmt)).all()
        column = page.sort.field
        return to_page(rows, page, _plan, lambda r: (getattr(r, column), r.id))

    async def customer_of(self, plan_id: UUID) -> UUID | None:
        return (await self._conn.execute(
            select(plans.c.customer_id).where(plans.c.id == plan_id))).scalar_one_or_none()

    async def add_revision(self, revision: Revision) -> None:
        await self._conn.execute(insert(plan_revisions).values(**revision.__dict__))

    async def revisions(self, plan_id: UUID) -> list[Revision]:
        rows = await self._conn.execute(select(plan_revisions).where(
            plan_revisions.c.plan_id == plan_id).order_by(plan_revisions.c.number))
        return [_revision(r) for r in rows]

    async def add_amendment(self, amendment: Amendment) -> None:
        values = dict(amendment.__dict__)
        values["state"] = amendment.state.value
        await self._conn.execute(insert(plan_amendments).values(**values))

    async def save_amendment(self, amendment: Amendment) -> None:
        values = dict(amendment.__dict__)
        values["state"] = amendment.state.value
        values.pop("id")
        await self._conn.execute(update(plan_amendments)
                                 .where(plan_amendments.c.id == amendment.id).values(**values))

    async def amendment(self, amendment_id: UUID, plan_id: UUID, *,
                        for_update: bool = False) -> Amendment | None:
        stmt = select(plan_amendments).where(plan_amendments.c.id == amendment_id,
                                             plan_amendments.c.plan_id == plan_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _amendment(row) if row else None

    async def amendment_for(self, change_request_id: UUID) -> Amendment | None:
        row = (await self._conn.execute(select(plan_amendments).where(
            plan_amendments.c.change_request_id == change_request_id))).one_or_none()
        return _amendment(row) if row else None

    async def amendments(self, plan_id: UUID) -> list[Amendment]:
        rows = await self._conn.execute(select(plan_amendments).where(
            plan_amendments.c.plan_id == plan_id).order_by(plan_amendments.c.created_at,
                                                           plan_amendments.c.id))
        return [_amendment(r) for r in rows]

    async def for_report(self, reach: PlanReach, filters: Any, starts_before: date | None,
                         ends_from: date | None, limit: int) -> list[Plan]:
        conditions = [reach_filter(reach), plans.c.state.in_(
            [PlanState.ACTIVE.value, PlanState.COMPLETED.value])]
        conditions += where_given(((plans.c.owner_id, filters.owner_id),
                                   (customers.c.department_id, filters.department_id)))
        if starts_before is not None:
            conditions.append(or_(plans.c.planned_start.is_(None),
                                  plans.c.planned_start < starts_before))
        if ends_from is not None:
            conditions.append(or_(plans.c.planned_end.is_(None),
                                  plans.c.planned_end >= ends_from))
        rows = await self._conn.execute(_SELECT.where(and_(*conditions))
                                        .order_by(plans.c.created_at, plans.c.id).limit(limit))
        return [_plan(r) for r in rows]

    async def open_of_customer(self, customer_id: UUID) -> list[Plan]:
        rows = await self._conn.execute(_SELECT.where(
            plans.c.customer_id == customer_id, plans.c.state.in_(_OPEN))
            .order_by(plans.c.created_at, plans.c.id))
        return [_plan(r) for r in rows]

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = (await self._conn.execute(
            update(plans).where(plans.c.customer_id == customer_id, plans.c.owner_id == from_id,
                                plans.c.state.in_(_OPEN))
            .values(owner_id=to_id, updated_at=now, version=plans.c.version + 1)
            .returning(plans.c.id, plans.c.title))).all()
        return [{"id": str(r.id), "title": r.title} for r in moved]

    # progress reports -----------------------------------------------------------------

    async def add_report(self, report: ProgressReport) -> None:
        await self._conn.execute(insert(plan_reports).values(**_report_values(report)))

    async def save_report(self, report: ProgressReport) -> None:
        values = _report_values(report)
        values.pop("id")
        await self._conn.execute(update(plan_reports)
                                 .where(plan_reports.c.id == report.id).values(**values))

    async def report(self, report_id: UUID, plan_id: UUID, *,
                     for_update: bool = False) -> ProgressReport | None:
        stmt = select(plan_reports).where(plan_reports.c.id == report_id,
                                          plan_reports.c.plan_id == plan_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _report(row) if row else None

    async def reports(self, plan_id: UUID, page: PageRequest) -> Page[ProgressReport]:
        stmt = keyset(select(plan_reports).where(plan_reports.c.plan_id == plan_id),
                      REPORT_SORTS, plan_reports.c.id, page)
        rows = (await self._conn.execute(stmt)).all()
        column = page.sort.field
        return to_page(rows, page, _report, lambda r: (getattr(r, column), r.id))

    async def report_by_token(self, hashed: str, *,
                              for_update: bool = False) -> ProgressReport | None:
        stmt = select(plan_reports).where(plan_reports.c.share_token_hash == hashed)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _report(row) if row else None


REPORT_SORTS = {"created_at": plan_reports.c.created_at}


def _report(row: Row[Any]) -> ProgressReport:
    values = dict(row._mapping)
    values["state"] = ReportState(values["state"])
    return ProgressReport(**values)


def _report_values(report: ProgressReport) -> dict[str, Any]:
    values = dict(report.__dict__)
    values["state"] = report.state.value
    return values
