"""客户方案 use cases: plans with objectives, milestones and deliverables, budget; their
workflow; the baseline's change control (amendments applied from approved change
requests, each a revision); and what a plan adds to a handover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.domain.access.scope import Reach, RecordScope
from app.domain.change_requests.access import read_scope as cr_read_scope
from app.domain.common.errors import FieldError, InvalidInput, NotFound
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import AnyOf, check_version
from app.domain.feedback.model import (
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.handovers.model import Handover
from app.domain.plans import baseline, editing, expectations, report, reports, workflow
from app.domain.plans.access import PlanReach, creation_scope, read_reach, write_reach
from app.domain.plans.baseline import AmendmentChanges
from app.domain.plans.figures import budget_totals, milestone_overdue
from app.domain.plans.model import (
    Amendment,
    AmendmentState,
    BudgetLine,
    Constraints,
    Expectation,
    Milestone,
    Objective,
    Plan,
    PlanState,
    Revision,
    TeamMember,
)
from app.domain.plans.reports import ProgressReport, ReportState
from app.domain.risk.register import allowed_changes
from app.domain.risk.register import read_scope as risk_read_scope
from app.services.business_calendar import load_calendar
from app.services.feedback import receive
from app.services.handover_materials import Material, MaterialContext
from app.services.ports import Clock, RequestContext
from app.services.ports.plans import PlanFilter
from app.services.ports.risks import RiskFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.risks import RiskView
from app.services.surveys import PublicLimits, throttle

Version = int | AnyOf


@dataclass(frozen=True)
class NewPlan:
    customer_id: UUID
    title: str
    scope_statement: str = ""
    owner_id: UUID | None = None  # default: the customer's manager
    team: tuple[TeamMember, ...] = ()
    constraints: Constraints = field(default_factory=Constraints)
    planned_start: date | None = None
    planned_end: date | None = None


@dataclass(frozen=True)
class PlanView:
    """A plan as the caller sees it: ``allowed_actions`` from the workflow table, ``today``
    in the business calendar's zone for the derived figures."""

    plan: Plan
    allowed_actions: list[str]
    today: date
    writable: bool


@dataclass(frozen=True)
class RevisionsView:
    revisions: list[Revision]
    current: dict[str, Any]


@dataclass(frozen=True)
class ReportView:
    """A progress report as its plan's people see it: the milestone status is the frozen
    one once published, the live one while a draft."""

    report: ProgressReport
    milestone_status: list[dict[str, Any]]
    allowed_actions: list[str]


@dataclass(frozen=True)
class PublicReport:
    """All a shared link reveals: customer-facing fields only (no internal notes, no
    people of ours)."""

    customer_name: str
    plan_title: str
    report: ProgressReport
    expires_at: datetime


REPORT_LINK_PATH = "/api/v1/public/plan-reports/"
REPORT_LIMIT = 5000  # plans in one performance report


class PlanService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 limits: PublicLimits = PublicLimits(),
                 link_base: str = REPORT_LINK_PATH) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._link_base = link_base

    # plans --------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, new: NewPlan) -> PlanView:
        principal = ctx.actor
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(new.customer_id, creation_scope(principal))
            if customer is None or customer.archived_at is not None:
                raise InvalidInput([FieldError("/customer_id", "customer_unknown")])
            owner_id = new.owner_id or customer.owner_id
            await self._check_people(uow, owner_id, new.team)
            plan = editing.edit_plan(Plan(
                id=new_id(), customer_id=customer.id, department_id=customer.department_id,
                title=new.title, scope_statement=new.scope_statement, owner_id=owner_id,
                team=list(new.team), constraints=new.constraints,
                planned_start=new.planned_start, planned_end=new.planned_end,
                state=PlanState.DRAFT, version=1, created_by=principal.id, created_at=now,
                updated_at=now, customer_owner_id=customer.owner_id), {})
            await uow.plans.add(plan)
            self._log(uow, "plan.created", plan, None, now)
            await uow.commit()
            return await self._view(uow, ctx, plan)

    async def get(self, ctx: RequestContext, plan_id: UUID) -> PlanView:
        async with self._uow(ctx, write=False) as uow:
            plan = await self._readable(uow, ctx, plan_id)
            return await self._view(uow, ctx, plan)

    async def list(self, ctx: RequestContext, filters: PlanFilter,
                   page: PageRequest) -> Page[PlanView]:
        async with self._uow(ctx, write=False) as uow:
            found = await uow.plans.list(read_reach(ctx.actor), filters, page)
            today = await self._today(uow)
        return Page([self._view_of(ctx, p, today) for p in found.items], found.next_after)

    async def update(self, ctx: RequestContext, plan_id: UUID, version: Version,
                     changes: dict[str, Any]) -> PlanView:
        async def check(uow: UnitOfWork, plan: Plan) -> None:
            await self._check_people(uow, changes.get("owner_id", plan.owner_id),
                                     changes.get("team", ()))
        changes = {**changes, **({"team": list(changes["team"])} if "team" in changes else {})}
        return await self._change(ctx, plan_id, version, "plan.updated",
                                  lambda plan, _: editing.edit_plan(plan, changes),
                                  before_change=check)

    async def act(self, ctx: RequestContext, plan_id: UUID, version: Version, action: str,
                  reason: str = "") -> PlanView:
        """activate | complete | cancel. Activation records revision 0: the baseline."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, version)
            changed = workflow.apply(plan, action, ctx.actor, now, reason=reason)
            if action == "activate":
                await uow.plans.add_revision(Revision(
                    plan_id=plan.id, number=0, content=baseline.content(changed),
                    change_request_id=None, amendment_id=None, created_by=ctx.actor.id,
                    created_at=now))
            return await self._save(uow, ctx, plan, changed, workflow.EVENTS[action], now,
                                    {"reason": reason} if reason else {})

    # parts of a plan ----------------------------------------------------------------

    async def add_part(self, ctx: RequestContext, plan_id: UUID, version: Version,
                       part: editing.PlanPart, item: Objective | Milestone | BudgetLine
                       ) -> PlanView:
        """Adds an objective, milestone or budget line (``plan.<part>_added``)."""
        add = editing.PARTS[part].add
        return await self._change(ctx, plan_id, version, f"plan.{part}_added",
                                  lambda plan, _: add(plan, item))

    async def update_part(self, ctx: RequestContext, plan_id: UUID, version: Version,
                          part: editing.PlanPart, part_id: UUID,
                          changes: dict[str, Any]) -> PlanView:
        """Changes one objective, milestone or budget line (``plan.<part>_updated``)."""
        edit = editing.PARTS[part].edit
        return await self._change(ctx, plan_id, version, f"plan.{part}_updated",
                                  lambda plan, today: edit(plan, part_id, changes, today))

    # change control -----------------------------------------------------------------

    async def propose_amendment(self, ctx: RequestContext, plan_id: UUID,
                                change_request_id: UUID,
                                changes: AmendmentChanges) -> Amendment:
        """Attaches the proposed change to a change request of the plan's customer whose
        form is still open: the request's assessors and approvers decide on exactly it."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, None)
            cr = await uow.change_requests.get(change_request_id, cr_read_scope(ctx.actor))
            if cr is None:
                raise InvalidInput([FieldError("/change_request_id", "change_request_unknown")])
            baseline.check_attach(plan, cr.customer_id, cr.state)
            baseline.check_changes(plan, changes)
            if await uow.plans.amendment_for(cr.id) is not None:
                raise baseline.AmendmentExists(change_request_id=cr.id)
            amendment = Amendment(id=new_id(), plan_id=plan.id, change_request_id=cr.id,
                                  changes=changes.to_dict(), state=AmendmentState.PROPOSED,
                                  created_by=ctx.actor.id, created_at=now)
            await uow.plans.add_amendment(amendment)
            uow.record_change("plan.amendment_proposed", "plan", plan.id,
                              after={"amendment_id": amendment.id,
                                     "change_request_id": cr.id, "changes": amendment.changes},
                              event={"amendment_id": amendment.id, "change_request_id": cr.id},
                              at=now, customer_id=plan.customer_id)
            await uow.commit()
            return amendment

    async def amendments(self, ctx: RequestContext, plan_id: UUID) -> list[Amendment]:
        async with self._uow(ctx, write=False) as uow:
            await self._readable(uow, ctx, plan_id)
            return await uow.plans.amendments(plan_id)

    async def apply_amendment(self, ctx: RequestContext, plan_id: UUID, version: Version,
                              amendment_id: UUID) -> PlanView:
        """The owner applies an approved change request's amendment: the baseline moves and
        a new revision cites the request. Once only (the amendment row is locked)."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, version)
            amendment = await uow.plans.amendment(amendment_id, plan.id, for_update=True)
            if amendment is None:
                raise NotFound(entity="amendment")
            cr = await uow.change_requests.get(amendment.change_request_id,
                                               cr_read_scope(ctx.actor))
            if cr is None:
                raise NotFound(entity="change_request")
            baseline.check_apply(plan, amendment, cr.customer_id, cr.state, ctx.actor)
            changed, summary = baseline.amend(plan, AmendmentChanges.from_dict(amendment.changes))
            number = (plan.revision or 0) + 1
            changed.revision = number
            await uow.plans.add_revision(Revision(
                plan_id=plan.id, number=number, content=baseline.content(changed),
                change_request_id=cr.id, amendment_id=amendment.id, created_by=ctx.actor.id,
                created_at=now, summary=summary))
            await uow.plans.save_amendment(baseline.applied(amendment, ctx.actor, now, number))
            return await self._save(uow, ctx, plan, changed, "plan.amended", now,
                                    {"revision": number, "change_request_id": cr.id,
                                     "amendment_id": amendment.id, "changes": summary})

    async def revisions(self, ctx: RequestContext, plan_id: UUID) -> RevisionsView:
        async with self._uow(ctx, write=False) as uow:
            plan = await self._readable(uow, ctx, plan_id)
            return RevisionsView(await uow.plans.revisions(plan_id), baseline.content(plan))

    async def risks(self, ctx: RequestContext, plan_id: UUID,
                    page: PageRequest) -> Page[RiskView]:
        """The risk register's entries about this plan that the caller may read."""
        async with self._uow(ctx, write=False) as uow:
            await self._readable(uow, ctx, plan_id)
            found = await uow.risks.list(risk_read_scope(ctx.actor),
                                         RiskFilter(plan_id=plan_id), page)
        return Page([RiskView(r, allowed_changes(ctx.actor, r)) for r in found.items],
                    found.next_after)

    # expectations -------------------------------------------------------------------

    async def add_expectation(self, ctx: RequestContext, plan_id: UUID, version: Version,
                              new: Expectation) -> tuple[PlanView, Expectation]:
        return await self._change_expectations(
            ctx, plan_id, version, "plan.expectation_added", None,
            lambda plan, contacts, today: (
                expectations.add(plan, plan.expectations, new, contacts), new))

    async def update_expectation(self, ctx: RequestContext, plan_id: UUID, version: Version,
                                 expectation_id: UUID, changes: dict[str, Any]
                                 ) -> tuple[PlanView, Expectation]:
        return await self._change_expectations(
            ctx, plan_id, version, "plan.expectation_updated", expectation_id,
            lambda plan, contacts, today: expectations.edit(
                plan, plan.expectations, expectation_id, changes, contacts, today))

    async def _change_expectations(
            self, ctx: RequestContext, plan_id: UUID, version: Version, action: str,
            expectation_id: UUID | None,
            change: Callable[[Plan, frozenset[UUID], date],
                             tuple[list[Expectation], Expectation]]
    ) -> tuple[PlanView, Expectation]:
        """Gaps this change opens are announced (``expectation.gap_opened``), once each."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, version)
            customer = await uow.customers.get(plan.customer_id, RecordScope(Reach.ALL))
            assert customer is not None
            contacts = frozenset(c.id for c in customer.live_contacts())
            today = await self._today(uow)
            before = next((e for e in plan.expectations if e.id == expectation_id), None)
            items, changed = change(plan, contacts, today)
            if len(items) > expectations.MAX_PER_PLAN:
                raise InvalidInput([FieldError("/statement", "too_many_expectations",
                                               {"max": expectations.MAX_PER_PLAN})])
            after = replace(plan, expectations=items)
            for gap in expectations.opened(before, changed, after, today):
                uow.emit(DomainEvent("expectation.gap_opened", "plan", plan.id, now,
                                     {"expectation_id": changed.id, "gap": gap,
                                      "category": changed.category,
                                      "statement": changed.statement[:200]},
                                     customer_id=plan.customer_id))
            view = await self._save(uow, ctx, plan, after, action, now,
                                    {"expectation_id": changed.id})
            return view, changed

    # progress reports ---------------------------------------------------------------

    async def create_report(self, ctx: RequestContext, plan_id: UUID, period_start: date,
                            period_end: date, texts: dict[str, str]) -> ReportView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, None)
            reports.check_reportable(plan)
            reports.check_period(period_start, period_end)
            report = ProgressReport(
                id=new_id(), plan_id=plan.id, customer_id=plan.customer_id,
                period_start=period_start, period_end=period_end,
                completed_work=texts.get("completed_work", ""), issues=texts.get("issues", ""),
                next_steps=texts.get("next_steps", ""),
                internal_notes=texts.get("internal_notes", ""), state=ReportState.DRAFT,
                version=1, created_by=ctx.actor.id, created_at=now, updated_at=now)
            await uow.plans.add_report(report)
            self._log_report(uow, "plan.report_created", report, None, now)
            await uow.commit()
            return await self._report_view(uow, ctx, plan, report)

    async def get_report(self, ctx: RequestContext, plan_id: UUID,
                         report_id: UUID) -> ReportView:
        async with self._uow(ctx, write=False) as uow:
            plan = await self._readable(uow, ctx, plan_id)
            report = await uow.plans.report(report_id, plan.id)
            if report is None:
                raise NotFound(entity="plan_report")
            return await self._report_view(uow, ctx, plan, report)

    async def list_reports(self, ctx: RequestContext, plan_id: UUID,
                           page: PageRequest) -> Page[ReportView]:
        async with self._uow(ctx, write=False) as uow:
            plan = await self._readable(uow, ctx, plan_id)
            found = await uow.plans.reports(plan.id, page)
            return Page([await self._report_view(uow, ctx, plan, r) for r in found.items],
                        found.next_after)

    async def update_report(self, ctx: RequestContext, plan_id: UUID, report_id: UUID,
                            version: Version, changes: dict[str, Any]) -> ReportView:
        return await self._change_report(
            ctx, plan_id, report_id, version, "plan.report_updated",
            lambda plan, report, now, today: reports.edit(report, changes))

    async def publish_report(self, ctx: RequestContext, plan_id: UUID, report_id: UUID,
                             version: Version) -> ReportView:
        """From now on the report, and the milestone status it shows, never change."""
        return await self._change_report(
            ctx, plan_id, report_id, version, "plan.report_published",
            lambda plan, report, now, today: reports.publish(report, plan, ctx.actor.id, now,
                                                             today))

    async def share_report(self, ctx: RequestContext, plan_id: UUID, report_id: UUID,
                           version: Version, days: int) -> tuple[ReportView, str, str]:
        """A new link for the customer (its token, and the link: this API's page or the
        deployment's frontend); the token is in this answer only."""
        issued: list[str] = []

        def share(plan: Plan, report: ProgressReport, now: datetime,
                  today: date) -> ProgressReport:
            shared, token = reports.share(report, ctx.actor.id, now, days)
            issued.append(token)
            return shared
        view = await self._change_report(ctx, plan_id, report_id, version,
                                         "plan.report_shared", share)
        return view, issued[0], self._link_base + issued[0]

    async def revoke_report_share(self, ctx: RequestContext, plan_id: UUID, report_id: UUID,
                                  version: Version) -> ReportView:
        return await self._change_report(
            ctx, plan_id, report_id, version, "plan.report_share_revoked",
            lambda plan, report, now, today: reports.revoke_share(report, now))

    async def public_report(self, ctx: RequestContext, token: str) -> PublicReport:
        await throttle(self._uow, ctx, self._clock.now(), self._limits, "plan-report")
        async with self._uow(ctx, write=False) as uow:
            report = reports.check_link(
                await uow.plans.report_by_token(reports.hash_of(token)), self._clock.now())
            return await self._public(uow, report)

    async def public_acknowledge(self, ctx: RequestContext, token: str,
                                 name: str) -> PublicReport:
        """The customer confirms they have read it; the first acknowledgement counts."""
        await throttle(self._uow, ctx, self._clock.now(), self._limits, "plan-report")
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            report = reports.check_link(await uow.plans.report_by_token(
                reports.hash_of(token), for_update=True), now)
            if report.acknowledged_at is None:
                before = replace(report)
                report.acknowledged_at, report.acknowledged_by = now, name.strip()[:100]
                await uow.plans.save_report(report)
                self._log_report(uow, "plan.report_acknowledged", report, before, now,
                                 actor_label={"name": report.acknowledged_by})
                await uow.commit()
            return await self._public(uow, report)

    async def public_comment(self, ctx: RequestContext, token: str, comment: str,
                             name: str) -> UUID:
        """The customer's comment arrives as a feedback item on the plan (channel web),
        answered by the customer's manager under the feedback SLA."""
        await throttle(self._uow, ctx, self._clock.now(), self._limits, "plan-report")
        text = reports.check_comment(comment, name)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            report = reports.check_link(await uow.plans.report_by_token(
                reports.hash_of(token), for_update=True), now)
            customer = await uow.customers.get(report.customer_id, RecordScope(Reach.ALL))
            assert customer is not None and report.shared_by is not None
            signed = f"（{name.strip()}）" if name.strip() else ""
            item = FeedbackItem(
                id=new_id(), customer_id=customer.id, department_id=customer.department_id,
                owner_id=customer.owner_id, channel=FeedbackChannel.WEB,
                type=FeedbackType.SUGGESTION, severity=Severity.LOW,
                summary=f"进展报告 {report.period_start}–{report.period_end} 客户意见{signed}："
                        f"{text}"[:5000],
                state=FeedbackState.RECEIVED, received_at=now, plan_id=report.plan_id)
            await receive(uow, item, report.shared_by, now)
            self._log_report(uow, "plan.report_commented", report, None, now,
                             actor_label={"feedback_id": item.id})
            await uow.commit()
            return item.id

    async def _public(self, uow: UnitOfWork, report: ProgressReport) -> PublicReport:
        plan = await uow.plans.get(report.plan_id, PlanReach(RecordScope(Reach.ALL)))
        customer = await uow.customers.get(report.customer_id, RecordScope(Reach.ALL))
        assert plan is not None and customer is not None and report.share_expires_at
        return PublicReport(customer.name, plan.title, report, report.share_expires_at)

    async def _change_report(
            self, ctx: RequestContext, plan_id: UUID, report_id: UUID, version: Version,
            action: str,
            change: Callable[[Plan, ProgressReport, datetime, date], ProgressReport]
    ) -> ReportView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, None)
            report = await uow.plans.report(report_id, plan.id, for_update=True)
            if report is None:
                raise NotFound(entity="plan_report")
            check_version(report.version, version)
            changed = change(plan, report, now, await self._today(uow))
            changed.version, changed.updated_at = report.version + 1, now
            await uow.plans.save_report(changed)
            self._log_report(uow, action, changed, report, now)
            await uow.commit()
            return await self._report_view(uow, ctx, plan, changed)

    async def _report_view(self, uow: UnitOfWork, ctx: RequestContext, plan: Plan,
                           report: ProgressReport) -> ReportView:
        status = report.milestone_status
        if status is None:
            status = reports.milestone_status(plan, await self._today(uow))
        writable = self._view_of(ctx, plan, date.min).writable
        return ReportView(report, status, reports.allowed_actions(report) if writable else [])

    @staticmethod
    def _log_report(uow: UnitOfWork, action: str, report: ProgressReport,
                    before: ProgressReport | None, now: datetime,
                    actor_label: dict[str, Any] | None = None) -> None:
        uow.record_change(action, "plan_report", report.id,
                          before=before.snapshot() if before else None,
                          after={**report.snapshot(), **(actor_label or {})},
                          event={"plan_id": report.plan_id, "state": report.state,
                                 **(actor_label or {})},
                          at=now, customer_id=report.customer_id)

    # performance --------------------------------------------------------------------

    async def performance_report(self, ctx: RequestContext, since: datetime | None,
                                 until: datetime | None, filters: PlanFilter
                                 ) -> tuple[list[report.PlanPerformance], report.Totals]:
        """Active and completed plans in the caller's reach whose planned window meets
        [since, until), at most ``REPORT_LIMIT`` of them (oldest first)."""
        async with self._uow(ctx, write=False) as uow:
            found = await uow.plans.for_report(
                read_reach(ctx.actor), filters, until.date() if until else None,
                since.date() if since else None, REPORT_LIMIT)
            today = await self._today(uow)
        rows = [report.of_plan(p, today) for p in found]
        return rows, report.totals(rows)

    # helpers ------------------------------------------------------------------------

    async def _change(self, ctx: RequestContext, plan_id: UUID, version: Version, action: str,
                      edit: Callable[[Plan, date], Plan],
                      before_change: Callable[[UnitOfWork, Plan], Any] | None = None
                      ) -> PlanView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            plan = await self._writable(uow, ctx, plan_id, version)
            if before_change is not None:
                await before_change(uow, plan)
            changed = edit(plan, await self._today(uow))
            return await self._save(uow, ctx, plan, changed, action, now, {})

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, before: Plan, after: Plan,
                    action: str, now: datetime, data: dict[str, Any]) -> PlanView:
        after.version = before.version + 1
        after.updated_at = now
        await uow.plans.save(after)
        self._log(uow, action, after, before, now, data)
        await uow.commit()
        return await self._view(uow, ctx, after)

    @staticmethod
    def _log(uow: UnitOfWork, action: str, plan: Plan, before: Plan | None, now: datetime,
             data: dict[str, Any] | None = None) -> None:
        uow.record_change(action, "plan", plan.id,
                          before=before.snapshot() if before else None, after=plan.snapshot(),
                          event={"title": plan.title, "state": plan.state,
                                 "revision": plan.revision, "owner_id": plan.owner_id,
                                 **(data or {})},
                          at=now, customer_id=plan.customer_id)

    @staticmethod
    async def _readable(uow: UnitOfWork, ctx: RequestContext, plan_id: UUID) -> Plan:
        plan = await uow.plans.get(plan_id, read_reach(ctx.actor))
        if plan is None:
            raise NotFound(entity="plan")
        return plan

    @staticmethod
    async def _writable(uow: UnitOfWork, ctx: RequestContext, plan_id: UUID,
                        version: Version | None) -> Plan:
        plan = await uow.plans.get(plan_id, write_reach(ctx.actor), for_update=True)
        if plan is None:
            raise NotFound(entity="plan")
        if version is not None:
            check_version(plan.version, version)
        return plan

    @staticmethod
    async def _check_people(uow: UnitOfWork, owner_id: UUID,
                            team: tuple[TeamMember, ...] | list[TeamMember]) -> None:
        owner = await uow.users.get(owner_id)
        if owner is None or not owner.active:
            raise InvalidInput([FieldError("/owner_id", "owner_unknown")])
        for i, member in enumerate(team):
            user = await uow.users.get(member.user_id)
            if user is None or not user.active:
                raise InvalidInput([FieldError(f"/team/{i}/user_id", "user_unknown")])

    async def _today(self, uow: UnitOfWork) -> date:
        return (await load_calendar(uow)).local_date(self._clock.now())

    async def _view(self, uow: UnitOfWork, ctx: RequestContext, plan: Plan) -> PlanView:
        return self._view_of(ctx, plan, await self._today(uow))

    @staticmethod
    def _view_of(ctx: RequestContext, plan: Plan, today: date) -> PlanView:
        writable = write_reach(ctx.actor).covers(
            plan_owner_id=plan.owner_id, customer_owner_id=plan.customer_owner_id,
            department_id=plan.department_id)
        actions = workflow.allowed_actions(plan, ctx.actor) if writable else []
        return PlanView(plan, actions, today, writable)


# What plans add to a handover: the customer's open plans on the checklist (open milestones,
# budget variance), and moving them to the receiving manager with the customer.

async def _active_plans(ctx: MaterialContext) -> dict[str, Any]:
    found = await ctx.uow.plans.open_of_customer(ctx.customer.id)
    calendar = await load_calendar(ctx.uow)
    today = calendar.local_date(ctx.now) if ctx.now is not None else None
    return {"count": len(found), "plans": [{
        "id": str(p.id), "title": p.title, "state": p.state, "owner_id": str(p.owner_id),
        "open_milestones": [{"id": str(m.id), "title": m.title,
                             "planned_date": m.planned_date.isoformat(),
                             "overdue": today is not None and milestone_overdue(m, today)}
                            for m in p.milestones if m.status != "done"],
        "gaps": expectations.gap_summary(p, p.expectations, today) if today else None,
        "budget_variance": {c: {"planned": str(v.planned), "actual": str(v.actual),
                                "variance": str(v.variance),
                                "variance_pct": None if v.variance_pct is None
                                else str(v.variance_pct)}
                            for c, v in budget_totals(p.budget_lines).items()},
    } for p in found]}


async def _move_plans(uow: UnitOfWork, h: Handover, now: datetime) -> list[dict[str, Any]]:
    return await uow.plans.reassign_open(h.customer_id, h.from_manager_id, h.to_manager_id, now)


HANDOVER_MATERIAL = Material("active_plans", _active_plans)
HANDOVER_TRANSFER = ("plans", "plan", _move_plans)
