"""The account-manager report's follow-through figures in SQL: overdue contacts, plan
performance and budget per manager, three GROUP BY statements that never read the
customers for a company or department scope: contacts are summed from the counts per
(owner, department, due date) and plans scoped by their copy of the customer's
department, both kept by triggers (migration 0022_report_plans). A plan's objectives,
milestones and budget lines are JSON arrays on its row (``tables_plans``), so the
statements count them in the database (``jsonb_array_elements`` on PostgreSQL,
``json_each`` on SQLite), per plan in one pass over the plans, and compare their ISO dates
as text; the rules are those of ``app.domain.plans.figures`` (``milestone_on_time``,
``meets_target``) and ``app.domain.interactions.model.is_overdue``, spelled in SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    and_,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import Reach
from app.domain.plans.access import PlanReach
from app.domain.plans.model import MilestoneStatus, PlanState
from app.repositories.plans import reach_filter
from app.repositories.scope import ScopedColumns, own_row
from app.repositories.tables_customers import customers
from app.repositories.tables_interactions import contact_due_counts
from app.repositories.tables_plans import plans
from app.services.ports.reports import ManagerPlanFigures, ReportFilter

# the states /reports/plans judges: a draft promises nothing yet, a cancelled plan no more
_JUDGED_STATES = (PlanState.ACTIVE.value, PlanState.COMPLETED.value)


class _Elements:
    """The elements of one of the plan's JSON arrays, joined beside the plan row."""

    def __init__(self, array: Any, postgres: bool) -> None:
        self._postgres = postgres
        self.table = (func.jsonb_array_elements(array) if postgres
                      else func.json_each(array)).table_valued("value")

    def text(self, name: str) -> ColumnElement[Any]:
        """A field of the element as text (null when null)."""
        if self._postgres:
            return func.jsonb_extract_path_text(self.table.c.value, name)
        return func.json_extract(self.table.c.value, f"$.{name}")

    def count(self, *where: ColumnElement[bool]) -> ColumnElement[Any]:
        """How many of the plan's elements meet ``where``: a subquery correlated to the
        plan row."""
        return (select(func.count()).select_from(self.table).where(*where)
                .correlate(plans).scalar_subquery())

    def number(self, name: str) -> ColumnElement[Any]:
        """A decimal field (stored as a string) as a number."""
        return cast(self.text(name), Numeric if self._postgres else Float)


def _sum(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _per_plan(counted: ColumnElement[bool], n: ColumnElement[Any]) -> ColumnElement[Any]:
    """The sum over the group's plans of ``n``, taken only on the plans ``counted``."""
    return func.coalesce(func.sum(case((counted, n), else_=0)), 0)


async def _contacts(conn: AsyncConnection, f: ReportFilter,
                    today: date) -> list[tuple[str, int, int]]:
    """Next contacts of live customers per owner and how many are overdue (the customer
    list's ``contact_overdue`` rule: due before today, local), summed from the counts per
    (owner, department, due date) the triggers keep. Every scope is answered by those keys:
    a manager sees only their own row, whose customers are theirs whatever their scope
    shares with them, so the shared flag never decides."""
    k = contact_due_counts
    where = [ScopedColumns(k.c.department_id, k.c.owner_id).filter(f.scope)]
    if f.department_id is not None:
        where.append(k.c.department_id == f.department_id)
    stmt = (select(k.c.owner_id, func.sum(k.c.n),
                   func.coalesce(func.sum(case((k.c.due_on < today, k.c.n), else_=0)), 0))
            .where(*where).group_by(k.c.owner_id).having(func.sum(k.c.n) > 0)
            .order_by(k.c.owner_id))
    return [(str(m), int(n), int(overdue)) for m, n, overdue in await conn.execute(stmt)]


def _plan_scope(f: ReportFilter, reach: PlanReach) -> tuple[list[ColumnElement[bool]], Any]:
    """The plans the report counts and what to read them from. The customer's department
    is on the plan row (``scope_department_id``, kept by triggers), so a company-wide or
    department scope reads the plans alone; a manager's scope also reads the customer's
    owner and shared flag, and joins the customers of the manager's own plans only."""
    own = f.scope.reach is Reach.OWN
    if own or reach.scope.reach is Reach.OWN:
        mine = [reach_filter(reach)]
        department, source = customers.c.department_id, plans.join(
            customers, customers.c.id == plans.c.customer_id)
    else:
        department, source = plans.c.scope_department_id, plans
        mine = [ScopedColumns(department).filter(reach.scope)]
        if reach.owner_id is not None:
            mine = [or_(mine[0], plans.c.owner_id == reach.owner_id)]
    if f.department_id is not None:
        mine.append(department == f.department_id)
    return [*mine, *own_row(f.scope, plans.c.owner_id)], source


async def manager_plans(conn: AsyncConnection, f: ReportFilter, reach: PlanReach,
                        today: date) -> ManagerPlanFigures:
    postgres = conn.dialect.name == "postgresql"

    contacts = await _contacts(conn, f, today)

    mine, of_customer = _plan_scope(f, reach)
    judged_plan = plans.c.state.in_(_JUDGED_STATES)

    # milestones due in the period, judged as ``milestone_on_time``: done by the planned
    # date (a done one without a date: today) is on time; done later, or not done and past
    # it, is late; not done and not due yet is not judged
    m = _Elements(plans.c.milestones, postgres)
    planned, day = m.text("planned_date"), today.isoformat()
    done = m.text("status") == MilestoneStatus.DONE.value
    in_period = []
    if f.since is not None:
        in_period.append(planned >= f.since.date().isoformat())
    if f.until is not None:
        in_period.append(planned < f.until.date().isoformat())

    # objectives of the plans /reports/plans selects (planned window meets the period),
    # achieved as ``meets_target``: a target below the baseline means lower is better
    o = _Elements(plans.c.objectives, postgres)
    actual, target, baseline = o.number("actual"), o.number("target"), o.number("baseline")
    lower = and_(baseline.is_not(None), target < baseline)
    achieved = and_(actual.is_not(None), or_(and_(lower, actual <= target),
                                             and_(not_(lower), actual >= target)))
    window = []
    if f.until is not None:
        window.append(or_(plans.c.planned_start.is_(None),
                          plans.c.planned_start < f.until.date()))
    if f.since is not None:
        window.append(or_(plans.c.planned_end.is_(None),
                          plans.c.planned_end >= f.since.date()))
    windowed_plan = and_(judged_plan, *window)

    # one pass over the plans: counted per plan inside its own arrays, summed per owner
    # and state
    rows = (await conn.execute(
        select(plans.c.owner_id, plans.c.state, func.count(),
               _per_plan(judged_plan, m.count(*in_period)),
               _per_plan(judged_plan, m.count(*in_period, or_(done, planned < day))),
               _per_plan(judged_plan, m.count(*in_period, done, func.coalesce(
                   m.text("actual_date"), day) <= planned)),
               _per_plan(windowed_plan, o.count()),
               _per_plan(windowed_plan, o.count(achieved)))
        .select_from(of_customer).where(*mine).group_by(plans.c.owner_id, plans.c.state)
        .order_by(plans.c.owner_id, plans.c.state))).all()
    by_state = [(str(r[0]), str(r[1]), int(r[2])) for r in rows]
    totals: dict[str, list[int]] = {}
    for owner, _, _, *counts in rows:
        acc = totals.setdefault(str(owner), [0] * 5)
        for i, n in enumerate(counts):
            acc[i] += int(n)
    milestones = [(owner, due, judged, on_time)
                  for owner, (due, judged, on_time, _, _) in totals.items() if due]
    objectives = [(owner, n, met) for owner, (_, _, _, n, met) in totals.items() if n]

    # budget per currency over the same plans (amounts in different currencies never add)
    b = _Elements(plans.c.budget_lines, postgres)
    currency = b.text("currency")
    budget = [(str(owner), str(cur), int(n), Decimal(str(planned)), Decimal(str(spent)))
              for owner, cur, n, planned, spent in await conn.execute(
        select(plans.c.owner_id, currency.label("currency"),
               func.count(func.distinct(plans.c.id)), func.sum(b.number("planned")),
               func.sum(b.number("actual")))
        .select_from(of_customer.join(b.table, true())).where(*mine, windowed_plan)
        .group_by(plans.c.owner_id, currency).order_by(plans.c.owner_id, currency))]
    return ManagerPlanFigures(contacts, by_state, milestones, objectives, budget)
