"""The management reports in SQL: every figure is an aggregate the database computes
(GROUP BY, window functions, ``percentile_cont`` on PostgreSQL and its window-function
equivalent on SQLite); durations in working hours join the working-day table
(``app.domain.reports.working_time``), passed in as a ``VALUES`` CTE. The customers'
figures (counts, integrity, health, new and churned per month) sum the summaries of
``tables_customer_summary`` rather than reading every customer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.selectable import CTE

from app.domain.access.scope import Reach
from app.domain.change_requests.model import CRState, StepStatus
from app.domain.handovers.model import HandoverState
from app.domain.handovers.report import HandoverTally
from app.domain.plans.access import PlanReach
from app.domain.reports.figures import percentile_of_counts
from app.domain.reports.working_time import WorkingDay
from app.repositories.reports_manager_plans import manager_plans
from app.repositories.scope import ScopedColumns, own_row
from app.repositories.tables_change_requests import (
    change_requests,
    cr_approval_steps,
    cr_approval_times,
)
from app.repositories.tables_customer_summary import (
    customer_churn_days,
    customer_health_summary,
    customer_new_days,
    customer_summary,
)
from app.repositories.tables_customers import customer_timeline
from app.repositories.tables_feedback import feedback_items, survey_scores
from app.repositories.tables_handovers import handover_findings, handovers
from app.repositories.tables_risks import risks
from app.services.ports.reports import (
    ChangeRequestFigures,
    CustomerFigures,
    HandoverOutcomes,
    HandoverSummary,
    ManagerFigures,
    ManagerPlanFigures,
    Quantiles,
    ReportFilter,
    RiskFigures,
)

_CR = change_requests
_STEP = cr_approval_steps
_TIMES = cr_approval_times
_TIMES_SCOPE = ScopedColumns(_TIMES.c.department_id, _TIMES.c.owner_id)  # the change's
_PENDING = StepStatus.PENDING.value  # a step's status, a round's outcome while one waits
_CR_SCOPE = ScopedColumns(_CR.c.department_id, _CR.c.owner_id)
_FEEDBACK_SCOPE = ScopedColumns(feedback_items.c.department_id, feedback_items.c.owner_id)
_SCORE_SCOPE = ScopedColumns(survey_scores.c.department_id, survey_scores.c.owner_id)
BANDS = ((20, "0-19"), (40, "20-39"), (60, "40-59"), (80, "60-79"))
_RISK_SCOPE = ScopedColumns(risks.c.department_id, risks.c.owner_id)
_HANDOVER_SCOPE = ScopedColumns(handovers.c.department_id)
_WORKING_DAY_COLUMNS = ("day", "cum", "a1", "b1", "a2", "b2", "ld", "split")


class Dialect:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"

    def epoch(self, t: Any) -> ColumnElement[Any]:
        """Seconds since 1970-01-01 UTC of a timestamp (or a date's midnight)."""
        if self.postgres:  # date_part is double precision; EXTRACT is numeric (slow)
            return func.date_part("epoch", t)
        return (func.julianday(t) - 2440587.5) * 86400.0

    def day(self, t: Any) -> ColumnElement[Any]:
        """The UTC day number (days since 1970-01-01) of a timestamp or a date."""
        if self.postgres:  # a float divisor: SQLAlchemy casts an integer one to numeric
            return cast(func.floor(func.date_part("epoch", t) / 86400.0), Integer)
        return cast(func.julianday(t) - 2440587.5, Integer)

    def clamp(self, x: Any, high: Any) -> ColumnElement[Any]:
        """x limited to 0 … high."""
        if self.postgres:
            return func.least(func.greatest(x, 0), high)
        return func.min(func.max(x, 0), high)

    def worked(self, t: Any, wd: Any) -> ColumnElement[Any]:
        """Working seconds from the table's start up to ``t`` (``wd``: t's UTC day row)."""
        return self.worked_at(self.epoch(t), wd)

    def worked_at(self, epoch: Any, wd: Any) -> ColumnElement[Any]:
        """``worked`` of the instant whose epoch seconds are ``epoch``."""
        s = epoch - wd.c.day * 86400
        return (wd.c.cum + self.clamp(s - wd.c.a1, wd.c.b1 - wd.c.a1)
                + self.clamp(s - wd.c.a2, wd.c.b2 - wd.c.a2))

    def local_day(self, t: Any, wd: Any) -> ColumnElement[Any]:
        """The calendar's local date of ``t`` as a day number."""
        s = self.epoch(t) - wd.c.day * 86400
        return wd.c.ld + case((s >= wd.c.split, 1), else_=0)

    def seconds_between(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        """``later`` − ``earlier`` in seconds (to the millisecond on SQLite, whose
        julianday arithmetic is floating point)."""
        if self.postgres:
            return func.extract("epoch", later) - func.extract("epoch", earlier)
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)

    def month(self, t: Any) -> ColumnElement[Any]:
        """The UTC month of a timestamp (``_month_text`` makes it YYYY-MM): on PostgreSQL
        the month's first instant, as ``to_char`` on every row costs more than the scan."""
        if self.postgres:
            return func.date_trunc("month", func.timezone("UTC", t))
        return func.strftime("%Y-%m", t)

    def quantiles(self, src: Subquery) -> Select[Any]:
        """Per ``src.g``: the count, median and 90th percentile (continuous, as
        ``percentile_cont``) of ``src.v``."""
        v = src.c.v
        if self.postgres:  # count and percentile_cont skip nulls: no filter computing v twice
            return (select(src.c.g, func.count(v), func.percentile_cont(0.5).within_group(v),
                           func.percentile_cont(0.9).within_group(v))
                    .group_by(src.c.g))
        ranked = select(src.c.g, v,
                        (func.row_number().over(partition_by=src.c.g, order_by=v) - 1)
                        .label("i"),
                        func.count().over(partition_by=src.c.g).label("n")
                        ).where(v.is_not(None)).subquery()

        def at(p: float) -> ColumnElement[Any]:
            h = (ranked.c.n - 1) * p
            low = cast(h, Integer)
            frac = h - low
            return func.sum(ranked.c.v * (case((ranked.c.i == low, 1 - frac), else_=0)
                                          + case((ranked.c.i == low + 1, frac), else_=0)))
        return select(ranked.c.g, func.max(ranked.c.n), at(0.5), at(0.9)).group_by(ranked.c.g)


# Built once from the fixed column names above (no value ever enters the text).
_NAMES = ", ".join(_WORKING_DAY_COLUMNS)
_UNNEST = "SELECT " + _NAMES + " FROM unnest(" + ", ".join(  # noqa: S608
    f"CAST(:wd_{n} AS {'bigint' if n == 'cum' else 'integer'}[])"
    for n in _WORKING_DAY_COLUMNS) + ") AS wd(" + _NAMES + ")"
_JSON_EACH = "SELECT " + ", ".join(  # noqa: S608
    f"json_extract(value, '$[{i}]') AS {n}"
    for i, n in enumerate(_WORKING_DAY_COLUMNS)) + " FROM json_each(:wd_rows)"


def working_day_cte(days: list[WorkingDay], postgres: bool) -> CTE:
    """The working-day table as one parameter per column (PostgreSQL arrays, ``unnest``)
    or one JSON parameter (SQLite, ``json_each``): a statement of constant text, so
    neither side re-renders or re-parses a thousand literal rows per report."""
    rows = [[getattr(d, n) for n in _WORKING_DAY_COLUMNS] for d in days] or \
        [[0] * len(_WORKING_DAY_COLUMNS)]
    cols = [column(n, BigInteger if n == "cum" else Integer) for n in _WORKING_DAY_COLUMNS]
    if postgres:
        stmt = text(_UNNEST).bindparams(*(bindparam(f"wd_{n}", [r[i] for r in rows])
                                          for i, n in enumerate(_WORKING_DAY_COLUMNS)))
    else:
        stmt = text(_JSON_EACH).bindparams(bindparam("wd_rows", json.dumps(rows)))
    return stmt.columns(*cols).cte("working_days")


class WorkingDayLookup:
    """The working-day row of an instant. PostgreSQL: array elements by position (the
    table's days are consecutive), so no join and no sort per lookup; SQLite: a join
    to the ``working_day_cte``. An instant outside the table has no row (SQLite drops
    it, PostgreSQL yields null, which counts and percentiles skip alike)."""

    def __init__(self, days: list[WorkingDay], sql: Dialect) -> None:
        self._sql = sql
        if sql.postgres:
            self._first = days[0].day if days else 0
            self._arrays = {n: Grouping(bindparam(  # (array)[i], as PostgreSQL parses it
                f"wd_{n}", [getattr(d, n) for d in days],
                type_=ARRAY(BigInteger if n == "cum" else Integer)))
                for n in _WORKING_DAY_COLUMNS if n != "day"}
        else:
            self._cte = working_day_cte(days, postgres=False)

    def at(self, t: Any, name: str) -> _DayRow:
        """The row for ``t``: its columns as ``.c.<column>``, like a table's."""
        day = self._sql.day(t)
        if not self._sql.postgres:
            row = self._cte.alias(name)
            return _DayRow(row.c, row, row.c.day == day)
        return self._of_day(day)

    def _of_day(self, day: Any) -> _DayRow:
        index = day - self._first + 1
        return _DayRow(SimpleNamespace(day=day, **{n: a[index]
                                                   for n, a in self._arrays.items()}))

    def hours(self, source: Any, g: Any, since: Any, until: Any,
              *where: ColumnElement[bool]) -> Select[Any]:
        """``g`` and the working hours from ``since`` to ``until`` (as ``g``, ``v``) of
        each row of ``source`` that ``where`` selects. PostgreSQL evaluates an expression
        as often as the statement writes it (a lookup writes the instant's day seven
        times): there each instant's epoch and day are selected once, behind an
        ``OFFSET 0`` that keeps the planner from writing them back into the lookups."""
        sql = self._sql
        if not sql.postgres:
            start, end = self.at(since, "start_day"), self.at(until, "end_day")
            worked = sql.worked(until, end) - sql.worked(since, start)
            return (select(g.label("g"), cast(worked / 3600.0, Float).label("v"))
                    .select_from(self.join(source, start, end)).where(*where))
        rows = (select(g.label("g"), sql.epoch(since).label("e1"), sql.day(since).label("d1"),
                       sql.epoch(until).label("e2"), sql.day(until).label("d2"))
                .select_from(source).where(*where).offset(0).subquery("instants"))
        worked = (sql.worked_at(rows.c.e2, self._of_day(rows.c.d2))
                  - sql.worked_at(rows.c.e1, self._of_day(rows.c.d1)))
        return select(rows.c.g, cast(worked / 3600.0, Float).label("v"))

    @staticmethod
    def join(source: Any, *rows: _DayRow) -> Any:
        for row in rows:
            if row.table is not None:
                source = source.join(row.table, row.on)
        return source


@dataclass(frozen=True)
class _DayRow:
    c: Any
    table: Any = None  # SQLite: the aliased working-day table to join, on ``on``
    on: Any = None


def _period(f: ReportFilter, at: Any, scope: ScopedColumns,
            department: Any) -> list[ColumnElement[bool]]:
    conditions = [scope.filter(f.scope)]
    if f.department_id is not None:
        conditions.append(department == f.department_id)
    if f.since is not None:
        conditions.append(at >= f.since)
    if f.until is not None:
        conditions.append(at < f.until)
    return conditions


def _counted(f: ReportFilter, summary: Table) -> list[ColumnElement[bool]]:
    """The rows of a customer summary (``tables_customer_summary``: customers counted
    by the columns record scope reads) in the caller's scope and department: the same
    customers as a scope filter on ``customers`` would read."""
    c = summary.c
    conditions = [ScopedColumns(c.department_id, c.owner_id,
                                c.shared_with_department).filter(f.scope)]
    if f.department_id is not None:
        conditions.append(c.department_id == f.department_id)
    return conditions


def _utc_days(f: ReportFilter) -> tuple[date | None, date | None]:
    """The period as UTC days (the first, and the one after the last): the day-keyed
    summaries answer whole UTC days, which is what the reporting period is made of
    (``app.api.period``)."""
    for bound in (f.since, f.until):
        if bound is not None and (bound.utcoffset() != timedelta(0)
                                  or bound.timetz().replace(tzinfo=None) != time()):
            raise ValueError(f"a reporting period starts and ends at a UTC day: {bound}")
    return (None if f.since is None else f.since.date(),
            None if f.until is None else f.until.date())


def _within(summary: Table, first: date | None, end: date | None) -> list[ColumnElement[bool]]:
    return [*([] if first is None else [summary.c.day >= first]),
            *([] if end is None else [summary.c.day < end])]


def _handover_reach(f: ReportFilter) -> ColumnElement[bool]:
    """A manager reads the handovers from or to them; otherwise as every record."""
    if f.scope.reach is Reach.OWN:
        return or_(handovers.c.from_manager_id == f.scope.user_id,
                   handovers.c.to_manager_id == f.scope.user_id)
    return ScopedColumns(handovers.c.department_id).filter(f.scope)


def _month_text(month: Any) -> str:
    return month.strftime("%Y-%m") if isinstance(month, datetime) else str(month)


def _quantiles(rows: Any) -> dict[str, Quantiles]:
    return {r[0]: Quantiles(r[0], int(r[1]), None if r[2] is None else float(r[2]),
                            None if r[3] is None else float(r[3])) for r in rows if r[1]}


# Each report aggregates 10^4–10^6 rows in a few statements. PostgreSQL's stock settings
# cost them dearly: JIT compiles every one (0.2–0.3 s of "Emission" per statement in the
# plans, more than the execution it speeds up), and a 4 MB work_mem sends their sorts and
# hashes to disk. Both are set for the report's read transaction only.
_POSTGRES_REPORT_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


class SqlReportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._sql = Dialect(conn.dialect.name)
        self._tuned = not self._sql.postgres

    async def _tune(self) -> None:
        """Once per transaction, before a report's first statement."""
        if not self._tuned:
            self._tuned = True
            for setting in _POSTGRES_REPORT_SETTINGS:
                await self._conn.execute(text(setting))

    def _crs(self, f: ReportFilter) -> list[ColumnElement[bool]]:
        return _period(f, _CR.c.created_at, _CR_SCOPE, _CR.c.department_id)

    async def change_request_span(self, f: ReportFilter) -> tuple[datetime | None,
                                                                   datetime | None]:
        """From the period's first change's creation (its steps start after it) to its
        last completion; the caller adds now, up to which every step was decided. One scan
        of the period's changes: the steps are not read."""
        await self._tune()
        created, first, last = (await self._conn.execute(
            select(func.min(_CR.c.created_at), func.min(_CR.c.implemented_at),
                   func.max(_CR.c.implemented_at)).where(*self._crs(f)))).one()
        known = [t for t in (created, first, last) if t is not None]
        return (min(known), max(known)) if known else (None, None)

    async def change_requests(self, f: ReportFilter, days: list[WorkingDay],
                              now: datetime) -> ChangeRequestFigures:
        await self._tune()
        sql, crs = self._sql, self._crs(f)
        conn = self._conn

        # one pass over the period's changes, grouped by all four dimensions at once; the
        # counts per dimension are sums over those few hundred groups
        dims = {"state": _CR.c.state, "type": _CR.c.type, "category": _CR.c.category,
                "risk_level": _CR.c.risk_level}
        grouped = (await conn.execute(
            select(*dims.values(), func.count()).where(*crs).group_by(*dims.values()))).all()
        counts: dict[str, list[tuple[str | None, int]]] = {}
        for index, name in enumerate(dims):
            tally: dict[str | None, int] = {}
            for row in grouped:
                tally[row[index]] = tally.get(row[index], 0) + int(row[-1])
            counts[name] = list(tally.items())

        # lead times per step role and per round ("end_to_end"), and the rounds' outcomes,
        # from the narrow table the triggers keep (``cr_approval_times``): no join, no grouping
        # of steps into rounds
        wd = WorkingDayLookup(days, sql)
        t = _TIMES
        measured = [*_period(f, t.c.created_at, _TIMES_SCOPE, t.c.department_id),
                    t.c.outcome != _PENDING]
        durations = wd.hours(t, t.c.role, t.c.started_at, t.c.ended_at, *measured,
                             or_(t.c.position == 0, t.c.ended_at.is_not(None))
                             ).subquery("durations")
        hours = _quantiles(await conn.execute(sql.quantiles(durations)))

        def outcome_is(outcome: str) -> ColumnElement[Any]:
            return func.coalesce(func.sum(case((t.c.outcome == outcome, 1), else_=0)), 0)
        tally = (await conn.execute(select(
            func.count(), outcome_is(StepStatus.REJECTED.value),
            outcome_is(StepStatus.RETURNED.value)).where(*measured, t.c.position == 0))).one()

        done = wd.at(_CR.c.implemented_at, "done_day")
        on_time = (await conn.execute(
            select(func.count(), func.coalesce(func.sum(case(
                (sql.local_day(_CR.c.implemented_at, done)
                 <= sql.day(_CR.c.requested_completion_date), 1), else_=0)), 0))
            .select_from(wd.join(_CR, done))
            .where(*crs, _CR.c.implemented_at.is_not(None),
                   _CR.c.requested_completion_date.is_not(None)))).one()

        ratios = union_all(
            select(literal("cost").label("g"),
                   (cast(_CR.c.actual_cost, Float) / cast(_CR.c.estimated_cost, Float))
                   .label("v"))
            .where(*crs, _CR.c.actual_cost.is_not(None), _CR.c.estimated_cost > 0),
            select(literal("schedule").label("g"),
                   (cast(_CR.c.actual_schedule_days, Float)
                    / cast(_CR.c.estimated_schedule_days, Float)).label("v"))
            .where(*crs, _CR.c.actual_schedule_days.is_not(None),
                   _CR.c.estimated_schedule_days > 0)).subquery("ratios")
        accuracy = _quantiles(await conn.execute(sql.quantiles(ratios)))

        # what is overdue now, whenever the change was created: scope and department only
        current = _period(ReportFilter(f.scope, None, None, f.department_id), _CR.c.created_at,
                          _CR_SCOPE, _CR.c.department_id)
        overdue = await conn.execute(
            select(_STEP.c.role, func.count())
            .select_from(_STEP.join(_CR, _CR.c.id == _STEP.c.change_request_id))
            .where(*current, _CR.c.state == CRState.AWAITING_APPROVAL.value,
                   _STEP.c.round == _CR.c.round,
                   _STEP.c.status == StepStatus.PENDING.value, _STEP.c.due_at < now)
            .group_by(_STEP.c.role))

        def q(key: str, found: dict[str, Quantiles]) -> Quantiles:
            return found.get(key, Quantiles(key, 0, None, None))

        return ChangeRequestFigures(
            counts=counts, step_hours=sorted(hours.values(), key=lambda x: x.key),
            rounds={"decided": int(tally[0]), "rejected": int(tally[1]),
                    "returned": int(tally[2])},
            implemented=int(on_time[0]), on_time=int(on_time[1]),
            cost_ratio=q("cost", accuracy), schedule_ratio=q("schedule", accuracy),
            overdue_steps=sorted((r[0], int(r[1])) for r in overdue))


    async def customers(self, f: ReportFilter) -> CustomerFigures:
        """The live customers from their summaries, each one GROUP BY: (tier, stage,
        department, integrity score), and health score (tenths); the counts by each
        dimension, the bands and the medians follow from those few thousand rows. New
        and churned customers per month are sums of the period's days from their
        day-keyed summaries."""
        await self._tune()
        conn = self._conn
        s, hs = customer_summary, customer_health_summary
        dims = (s.c.tier, s.c.stage, s.c.department_id, s.c.integrity_score)
        groups = (await conn.execute(
            select(*dims, func.sum(s.c.n)).where(*_counted(f, s)).group_by(*dims)
            .having(func.sum(s.c.n) > 0))).all()
        counts: dict[str, list[tuple[str | None, int]]] = {}
        for name, index in (("tier", 0), ("stage", 1), ("department", 2)):
            tally: dict[str, int] = {}
            for row in groups:
                tally[str(row[index])] = tally.get(str(row[index]), 0) + int(row[4])
            counts[name] = sorted(tally.items())
        integrity_counts: dict[int, int] = {}
        for row in groups:
            integrity_counts[row[3]] = integrity_counts.get(row[3], 0) + int(row[4])
        scored = (await conn.execute(
            select(hs.c.score, func.sum(hs.c.n),
                   func.sum(case((hs.c.below_threshold.is_(True), hs.c.n), else_=0)))
            .where(*_counted(f, hs)).group_by(hs.c.score).having(func.sum(hs.c.n) > 0))).all()
        health_counts = [(score / 10, int(n)) for score, n, _ in scored]

        def banded(pairs: Any) -> list[tuple[str, int]]:
            tally: dict[str, int] = {}
            for value, n in pairs:
                band = next((b for limit, b in BANDS if value < limit), "80-100")
                tally[band] = tally.get(band, 0) + n
            return sorted(tally.items())

        def quantiles(key: str, pairs: list[tuple[float, int]]) -> Quantiles:
            n = sum(k for _, k in pairs)
            return Quantiles(key, n, percentile_of_counts(pairs, 0.5),
                             percentile_of_counts(pairs, 0.9))
        integrity_pairs = [(float(v), n) for v, n in integrity_counts.items()]
        integrity_bands, integrity = banded(integrity_pairs), quantiles("integrity",
                                                                         integrity_pairs)
        health_bands, health = banded(health_counts), quantiles("health", health_counts)
        below = sum(int(b or 0) for _, _, b in scored)

        # new and churned customers per month: sums of the period's UTC days
        first, end = _utc_days(f)
        nd, cd = customer_new_days, customer_churn_days
        new_months: dict[str, int] = {}
        for day, n in await conn.execute(
                select(nd.c.day, func.sum(nd.c.n)).where(*_counted(f, nd), *_within(nd, first, end))
                .group_by(nd.c.day)):
            new_months[f"{day:%Y-%m}"] = new_months.get(f"{day:%Y-%m}", 0) + int(n)
        churn_months: dict[tuple[str, str], int] = {}
        for day, reason, n in await conn.execute(
                select(cd.c.day, cd.c.reason, func.sum(cd.c.n))
                .where(*_counted(f, cd), *_within(cd, first, end))
                .group_by(cd.c.day, cd.c.reason)):
            key = (f"{day:%Y-%m}", reason)
            churn_months[key] = churn_months.get(key, 0) + int(n)
        new = sorted((m, n) for m, n in new_months.items() if n > 0)
        churned = [(m, r or None, n) for (m, r), n in sorted(churn_months.items()) if n > 0]
        return CustomerFigures(counts, integrity_bands, integrity, health_bands, health, below,
                               new, churned)

    async def account_managers(self, f: ReportFilter, now: datetime) -> ManagerFigures:
        await self._tune()
        conn = self._conn
        # customers per (manager, tier), and per manager their health's count, sum and
        # how many below the threshold, from the summaries
        s, hs = customer_summary, customer_health_summary
        by_tier = [(str(m), t, int(n)) for m, t, n in await conn.execute(
            select(s.c.owner_id, s.c.tier, func.sum(s.c.n))
            .where(*_counted(f, s), *own_row(f.scope, s.c.owner_id))
            .group_by(s.c.owner_id, s.c.tier).having(func.sum(s.c.n) > 0)
            .order_by(s.c.owner_id, s.c.tier))]
        health = sorted((str(m), int(n), int(total) / 10 / int(n), int(below))
                        for m, n, total, below in await conn.execute(
            select(hs.c.owner_id, func.sum(hs.c.n), func.sum(hs.c.score * hs.c.n),
                   func.sum(case((hs.c.below_threshold.is_(True), hs.c.n), else_=0)))
            .where(*_counted(f, hs), *own_row(f.scope, hs.c.owner_id))
            .group_by(hs.c.owner_id).having(func.sum(hs.c.n) > 0)))

        fb = feedback_items

        def clock(done: Any, due: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
            ran = or_(done.is_not(None), due < now)
            return (func.sum(case((ran, 1), else_=0)),
                    func.sum(case((and_(done.is_not(None), done <= due), 1), else_=0)))
        feedback = [(str(m), *(int(x or 0) for x in rest)) for m, *rest in await conn.execute(
            select(fb.c.owner_id.label("m"),
                   *clock(fb.c.acknowledged_at, fb.c.acknowledge_due_at),
                   *clock(fb.c.resolved_at, fb.c.resolve_due_at))
            .where(*_period(f, fb.c.received_at, _FEEDBACK_SCOPE, fb.c.department_id))
            .group_by("m").order_by("m"))]

        def state_is(*states: str) -> ColumnElement[Any]:
            return func.sum(case((_CR.c.state.in_(states), 1), else_=0))
        changes = [(str(m), *(int(x or 0) for x in rest)) for m, *rest in await conn.execute(
            select(_CR.c.owner_id.label("m"), func.count(),
                   func.sum(case((_CR.c.implemented_at.is_not(None), 1), else_=0)),
                   state_is(CRState.REJECTED.value), state_is(CRState.CANCELLED.value))
            .where(*self._crs(f)).group_by("m").order_by("m"))]

        s = survey_scores
        answered = _period(f, s.c.submitted_at, _SCORE_SCOPE, s.c.department_id)
        csat = [(str(m), int(n), int(ok)) for m, n, ok in await conn.execute(
            select(s.c.owner_id.label("m"), func.count(),
                   func.sum(case((s.c.value >= 4, 1), else_=0)))
            .where(*answered, s.c.kind == "csat").group_by("m").order_by("m"))]
        nps = [(str(m), int(n), int(p), int(d)) for m, n, p, d in await conn.execute(
            select(s.c.owner_id.label("m"), func.count(),
                   func.sum(case((s.c.value >= 9, 1), else_=0)),
                   func.sum(case((s.c.value <= 6, 1), else_=0)))
            .where(*answered, s.c.kind == "nps").group_by("m").order_by("m"))]

        h = handovers
        moved = [_handover_reach(f), h.c.transferred_at.is_not(None)]
        if f.department_id is not None:
            moved.append(h.c.department_id == f.department_id)
        if f.since is not None:
            moved.append(h.c.transferred_at >= f.since)
        if f.until is not None:
            moved.append(h.c.transferred_at < f.until)
        ins = select(h.c.to_manager_id.label("m"), literal(1).label("i"),
                     literal(0).label("o")).where(*moved)
        outs = select(h.c.from_manager_id.label("m"), literal(0).label("i"),
                      literal(1).label("o")).where(*moved)
        both = union_all(ins, outs).subquery("moves")
        rows = select(both.c.m, func.sum(both.c.i), func.sum(both.c.o)).where(
            *own_row(f.scope, both.c.m))
        handed = [(str(m), int(i), int(o)) for m, i, o in await conn.execute(
            rows.group_by(both.c.m).order_by(both.c.m))]
        return ManagerFigures(by_tier, health, feedback, changes, csat, nps, handed)

    async def manager_plans(self, f: ReportFilter, reach: PlanReach,
                            today: date) -> ManagerPlanFigures:
        await self._tune()
        return await manager_plans(self._conn, f, reach, today)

    async def risks(self, f: ReportFilter, today: date) -> RiskFigures:
        await self._tune()
        conn, sql, r = self._conn, self._sql, risks
        now_open = _period(ReportFilter(f.scope, None, None, f.department_id), r.c.created_at,
                           _RISK_SCOPE, r.c.department_id)
        now_open.append(r.c.status != "closed")
        by_level = [(int(v), int(n)) for v, n in await conn.execute(
            select(r.c.level, func.count()).where(*now_open).group_by(r.c.level)
            .order_by(r.c.level))]
        by_owner = [(str(o), int(n)) for o, n in await conn.execute(
            select(r.c.owner_id, func.count()).where(*now_open).group_by(r.c.owner_id))]
        heat = [(int(li), int(im), int(n)) for li, im, n in await conn.execute(
            select(r.c.likelihood, r.c.impact, func.count()).where(*now_open)
            .group_by(r.c.likelihood, r.c.impact).order_by(r.c.likelihood, r.c.impact))]
        tally = (await conn.execute(select(
            func.coalesce(func.sum(case((r.c.next_review_date < today, 1), else_=0)), 0),
            func.count(r.c.change_request_id), func.count(r.c.handover_id),
            func.count(r.c.plan_id)).where(*now_open))).one()
        opened = [(_month_text(m), int(n)) for m, n in await conn.execute(
            select(sql.month(r.c.created_at).label("month"), func.count())
            .where(*_period(f, r.c.created_at, _RISK_SCOPE, r.c.department_id))
            .group_by("month").order_by("month"))]
        closed = [(_month_text(m), int(n)) for m, n in await conn.execute(
            select(sql.month(r.c.closed_at).label("month"), func.count())
            .where(*_period(f, r.c.closed_at, _RISK_SCOPE, r.c.department_id),
                   r.c.status == "closed", r.c.closed_at.is_not(None))
            .group_by("month").order_by("month"))]
        return RiskFigures(by_level, by_owner, heat, int(tally[0]),
                           {"change_request": int(tally[1]), "handover": int(tally[2]),
                            "plan": int(tally[3])}, opened, closed)

    async def handover_summary(self, f: ReportFilter, today: date) -> HandoverSummary:
        """Three statements grouping the period's handovers — counts by (department,
        month, state), findings by (department, month), and the median days to transfer
        per department, per month and overall — so no row per handover is loaded."""
        await self._tune()
        conn, sql, h, fd = self._conn, self._sql, handovers, handover_findings
        created = _period(f, h.c.created_at, _HANDOVER_SCOPE, h.c.department_id)
        month = sql.month(h.c.created_at)
        # (all / department / month, its key) → what is counted → how many
        tallies: dict[tuple[str, str], dict[str, int]] = {}

        def add(department: Any, month_: Any, into: str, n: int) -> None:
            for key in (("all", ""), ("department", str(department)),
                        ("month", _month_text(month_))):
                counts = tallies.setdefault(key, {})
                counts[into] = counts.get(into, 0) + n

        overdue = and_(h.c.state == HandoverState.TRANSFERRED.value, h.c.follow_up_due < today)
        for department, month_, state, n, moved, late in await conn.execute(
                select(h.c.department_id, month.label("month"), h.c.state, func.count(),
                       func.count(h.c.transferred_at),
                       func.sum(case((overdue, 1), else_=0)))
                .where(*created).group_by(h.c.department_id, "month", h.c.state)):
            add(department, month_, "state:" + state, int(n))
            add(department, month_, "transferred", int(moved))
            add(department, month_, "overdue", int(late or 0))
        for department, month_, n in await conn.execute(
                select(h.c.department_id, month.label("month"), func.count())
                .select_from(fd.join(h, h.c.id == fd.c.handover_id)).where(*created)
                .group_by(h.c.department_id, "month")):
            add(department, month_, "findings", int(n))

        days = (sql.seconds_between(h.c.transferred_at, h.c.created_at) / 86400.0).label("v")
        medians: dict[tuple[str, str], float | None] = {}
        for kind, group, text_of in (
                ("all", literal(""), str), ("department", h.c.department_id, str),
                ("month", month, _month_text)):
            found = await conn.execute(sql.quantiles(
                select(group.label("g"), days)
                .where(*created, h.c.transferred_at.is_not(None)).subquery("durations")))
            for g, n, median, _ in found:
                if n:
                    medians[kind, text_of(g)] = None if median is None else float(median)

        def tally_of(key: tuple[str, str]) -> HandoverTally:
            counts = tallies.get(key, {})
            return HandoverTally(
                {k.removeprefix("state:"): n for k, n in counts.items()
                 if k.startswith("state:")},
                counts.get("transferred", 0), medians.get(key), counts.get("findings", 0),
                counts.get("overdue", 0))
        grouped = {kind: {k: tally_of((kind, k)) for g, k in tallies if g == kind}
                   for kind in ("department", "month")}
        return HandoverSummary(tally_of(("all", "")), grouped["department"], grouped["month"])

    async def handover_span(self, f: ReportFilter) -> datetime | None:
        await self._tune()
        h = handovers
        return (await self._conn.execute(select(func.min(h.c.transferred_at)).where(
            *_period(f, h.c.created_at, _HANDOVER_SCOPE, h.c.department_id)))).scalar_one()

    async def handover_outcomes(self, f: ReportFilter, days: list[WorkingDay], today: int,
                                window_days: int) -> HandoverOutcomes:
        await self._tune()
        conn, sql, h, t = self._conn, self._sql, handovers, customer_timeline
        created = _period(f, h.c.created_at, _HANDOVER_SCOPE, h.c.department_id)
        moved = [*created, h.c.transferred_at.is_not(None)]
        wd = working_day_cte(days, sql.postgres)
        moved_day, churn_day = wd.alias("moved_day"), wd.alias("churn_day")
        transfer_day = sql.local_day(h.c.transferred_at, moved_day)
        churned = (select(literal(1)).select_from(
            t.join(churn_day, churn_day.c.day == sql.day(t.c.occurred_at))).where(
            t.c.customer_id == h.c.customer_id, t.c.type == "customer.stage_changed",
            t.c.data["to"].as_string() == "churned", t.c.occurred_at >= h.c.transferred_at,
            sql.local_day(t.c.occurred_at, churn_day) - transfer_day <= window_days)
            .correlate(h, moved_day).exists())
        # each handover's window and churn once (OFFSET 0: the planner would otherwise
        # write the EXISTS into each sum below, probing the timeline twice per handover)
        each = (select((today - transfer_day > window_days).label("closed"),
                       churned.label("churned"))
                .select_from(h.join(moved_day, moved_day.c.day == sql.day(h.c.transferred_at)))
                .where(*moved).offset(0).subquery("each"))
        churn = (await conn.execute(select(
            func.coalesce(func.sum(case((each.c.closed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(each.c.closed, each.c.churned), 1), else_=0)),
                          0),
            func.coalesce(func.sum(case((each.c.churned, 1), else_=0)), 0)))).one()
        seconds = window_days * 86400

        s = survey_scores
        gap = sql.seconds_between(s.c.submitted_at, h.c.transferred_at)
        side = case((s.c.submitted_at < h.c.transferred_at, "before"), else_="after")
        answers = (select(h.c.id.label("handover"), side.label("side"), s.c.kind, s.c.value)
                   .select_from(h.join(s, s.c.customer_id == h.c.customer_id))
                   .where(*moved, _SCORE_SCOPE.filter(f.scope), gap > -seconds,
                          gap <= seconds).subquery("answers"))
        # the same customers on both sides: handovers with answers before and after
        both = (select(answers.c.handover).group_by(answers.c.handover)
                .having(func.count(func.distinct(answers.c.side)) == 2).subquery("both"))
        a = answers.c
        rows = await conn.execute(
            select(a.side, func.sum(case((a.kind == "csat", 1), else_=0)),
                   func.sum(case((and_(a.kind == "csat", a.value >= 4), 1), else_=0)),
                   func.sum(case((a.kind == "nps", 1), else_=0)),
                   func.sum(case((and_(a.kind == "nps", a.value >= 9), 1), else_=0)),
                   func.sum(case((and_(a.kind == "nps", a.value <= 6), 1), else_=0)))
            .where(a.handover.in_(select(both.c.handover))).group_by(a.side))
        satisfaction = {side_: (int(c or 0), int(ok or 0), int(n or 0), int(p or 0),
                                int(d or 0)) for side_, c, ok, n, p, d in rows}
        compared = (await conn.execute(select(func.count()).select_from(both))).scalar_one()

        handover_count = (await conn.execute(select(func.count()).where(*created))).scalar_one()
        fd = handover_findings
        findings = [(k, int(n)) for k, n in await conn.execute(
            select(fd.c.item_key, func.count()).select_from(fd.join(h, h.c.id == fd.c.handover_id))
            .where(*created).group_by(fd.c.item_key).order_by(fd.c.item_key))]
        return HandoverOutcomes(int(churn[0]), int(churn[1]), int(churn[2]), satisfaction,
                                int(compared), int(handover_count), findings)
