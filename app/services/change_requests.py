"""变更管理 use cases: request, assess, approve, implement, review. Every state change is
the domain's ``workflow.apply`` (the rest ask ``records``) inside one transaction with the
change request's row locked, so two people acting at once never both succeed; a use case
loads, asks the domain, stores what it decided and commits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.scope import Reach, RecordScope
from app.domain.access.scope import write_scope as customer_write_scope
from app.domain.change_requests import records, workflow
from app.domain.change_requests.access import read_scope
from app.domain.change_requests.approval_policy import Delegation, overdue, stands_in
from app.domain.change_requests.model import (
    Assessment,
    AssessmentEntry,
    ChangeRequest,
    Conclusion,
    CRCategory,
    CRState,
    CRType,
    GoalsMet,
    Priority,
    Task,
    TaskStatus,
)
from app.domain.change_requests.workflow import ActionInput, Lesson, Planning
from app.domain.common.errors import (
    FieldError,
    InvalidInput,
    NotFound,
)
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.partial import sent_values
from app.domain.common.versions import check_version
from app.domain.training.competence import Duty, TrainingRequired
from app.services.approval_policy import APPROVAL_POLICY
from app.services.business_calendar import load_calendar
from app.services.knowledge import KnowledgeService
from app.services.policies import RISK_MATRIX, load_policy
from app.services.ports import Clock, RequestContext
from app.services.ports.change_requests import ChangeRequestFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.training import competence_for, record_refusal


@dataclass(frozen=True)
class DraftInput:
    """The form (变更申请); on update only the names in ``fields_set`` change."""

    title: str = ""
    description: str = ""
    reason: str = ""
    expected_effect: str = ""
    category: CRCategory = CRCategory.SCOPE
    type: CRType = CRType.NORMAL
    priority: Priority = Priority.MEDIUM
    requested_completion_date: date | None = None
    attachments: tuple[dict[str, str], ...] = ()
    fields_set: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReviewInput:
    goals_met: GoalsMet
    actual_cost: Decimal
    actual_schedule_days: int
    customer_satisfaction: int
    lessons_learned: str


@dataclass(frozen=True)
class View:
    """A change request as one caller sees it, computed once at the use case's clock:
    what they may do now and which approval steps are late."""

    cr: ChangeRequest
    allowed_actions: list[str]
    overdue_steps: frozenset[UUID]

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_steps)


class ChangeRequestService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 knowledge: KnowledgeService) -> None:
        self._uow = uow
        self._clock = clock
        self._knowledge = knowledge

    # reading -------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, cr_id: UUID) -> View:
        async with self._uow(ctx, write=False) as uow:
            cr = await self._visible(uow, ctx, cr_id)
            return await self._view(uow, ctx, cr, self._clock.now())

    async def list(self, ctx: RequestContext, filters: ChangeRequestFilter,
                   page: PageRequest, *, overdue_only: bool = False) -> Page[ChangeRequest]:
        """``overdue_only``: those with an approval step late by the service's clock."""
        assert ctx.principal is not None
        if overdue_only:
            filters = replace(filters, overdue_at=self._clock.now())
        async with self._uow(ctx, write=False) as uow:
            return await uow.change_requests.list(read_scope(ctx.principal), filters, page)

    async def activity(self, ctx: RequestContext, cr_id: UUID) -> dict[str, list[Any]]:
        """Customer input, progress updates and the communication log."""
        async with self._uow(ctx, write=False) as uow:
            await self._visible(uow, ctx, cr_id)
            repo = uow.change_requests
            return {"customer_inputs": await repo.customer_inputs(cr_id),
                    "progress": await repo.progress(cr_id),
                    "communications": await repo.communications(cr_id)}

    # the form ------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, customer_id: UUID, form: DraftInput) -> View:
        """A draft on a customer the requester may change (their own, or as head/admin)."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(customer_id,
                                               customer_write_scope(ctx.principal))
            if customer is None or customer.archived_at is not None:
                raise InvalidInput([FieldError("/customer_id", "customer_unknown")])
            cr = ChangeRequest(
                id=new_id(), customer_id=customer.id, department_id=customer.department_id,
                owner_id=customer.owner_id, requester_id=ctx.principal.id, title=form.title,
                description=form.description, reason=form.reason,
                expected_effect=form.expected_effect, category=form.category, type=form.type,
                priority=form.priority,
                requested_completion_date=form.requested_completion_date,
                attachments=list(form.attachments), state=CRState.DRAFT, round=0,
                currency="CNY", version=1, created_at=now, updated_at=now)
            await uow.change_requests.add(cr)
            self._announce(uow, cr, "created", None, now, {"title": cr.title})
            await uow.commit()
            return await self._view(uow, ctx, cr, now)

    async def update_draft(self, ctx: RequestContext, cr_id: UUID, expected_version: int,
                           form: DraftInput) -> View:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, expected_version)
            assert ctx.principal is not None
            records.check_editable(cr, ctx.principal)
            before = cr.snapshot()
            changes = sent_values(form)
            if "attachments" in changes:
                changes["attachments"] = list(changes["attachments"])
            cr = replace(cr, **changes)
            return await self._save(uow, ctx, cr, "updated", before, now)

    # transitions ---------------------------------------------------------------------

    async def transition(self, ctx: RequestContext, cr_id: UUID, expected_version: int,
                         action: str, comment: str = "",
                         conclusion: Conclusion | None = None,
                         step_id: UUID | None = None) -> View:
        """Load, let the domain apply the action, store what it decided, commit."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, expected_version)
            delegations = await self._delegations(uow, cr, now)
            planning = await self._planning(uow) \
                if workflow.needs_planning(cr, action) else None
            competence = await competence_for(uow, ctx.principal, Duty.APPROVE_CHANGE, now) \
                if workflow.decides_step(action) else None
            try:
                done = workflow.apply(cr, action, ctx.principal, now, delegations,
                                      ActionInput(comment=comment, step_id=step_id,
                                                  conclusion=conclusion, planning=planning,
                                                  competence=competence))
            except TrainingRequired as refusal:
                await record_refusal(uow, refusal, "change_request", cr.id, now)
                raise
            if done.lesson is not None:
                done = done.filed(await self._file(uow, ctx, done.cr, done.lesson, now))
            if done.chain is not None:
                await uow.change_requests.replace_steps(cr.id, done.cr.round, done.chain)
            if done.decision is not None:
                await uow.change_requests.save_step(done.decision.step)
            if done.timed is not None:
                await uow.change_requests.save_step(done.timed)
            # Deciding a step makes the next pending step current, whose role the
            # delegations read above cover; a new chain needs its own.
            return await self._save(uow, ctx, done.cr, done.event, cr.snapshot(), now,
                                    {**done.data, **_became_current(done)},
                                    delegations if done.chain is None else None)

    async def _planning(self, uow: UnitOfWork) -> Planning:
        policy, _ = await load_policy(uow, APPROVAL_POLICY)
        matrix, _ = await load_policy(uow, RISK_MATRIX)
        return Planning(policy, matrix, await load_calendar(uow))

    async def _file(self, uow: UnitOfWork, ctx: RequestContext, cr: ChangeRequest,
                    lesson: Lesson, now: datetime) -> UUID:
        article = await self._knowledge.create_from_change_request(
            uow, ctx, lesson.title, lesson.body, list(lesson.tags), cr.id, cr.customer_id, now)
        return article.id

    async def escalate_overdue(self, ctx: RequestContext, limit: int = 500) -> int:
        """Raise one escalation event per overdue approval step (domain §3: an overdue
        step raises an escalation event); a scheduler calls this every few minutes. Safe to
        run from several processes at once: each step is escalated exactly once."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            found = await uow.change_requests.overdue_steps(now, limit)
            for cr_id, step in found:
                step.escalated_at = now
                await uow.change_requests.save_step(step)
                cr = await uow.change_requests.get(cr_id, RecordScope(Reach.ALL))
                assert cr is not None
                self._announce(uow, cr, "approval_overdue", None, now, {
                    "step": step.position, "role": step.role,
                    "due_at": step.due_at.isoformat()})
            await uow.commit()
            return len(found)

    # assessment ----------------------------------------------------------------------

    async def add_assessment(self, ctx: RequestContext, cr_id: UUID,
                             entry: Assessment) -> View:
        """A panel member's assessment; one per member per round."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            role = records.assessor_role(cr, ctx.principal)
            recorded = AssessmentEntry(
                id=new_id(), round=cr.round, assessor_id=ctx.principal.id,
                assessor_role=role, created_at=now, **entry.__dict__)
            await uow.change_requests.add_assessment(cr.id, recorded)
            cr.assessments.append(recorded)
            return await self._save(uow, ctx, cr, "assessed", cr.snapshot(), now,
                                    {"assessor_role": recorded.assessor_role,
                                     "recommendation": recorded.recommendation})

    async def add_customer_input(self, ctx: RequestContext, cr_id: UUID, contact_id: UUID,
                                 opinion: str) -> View:
        """The customer representative's opinion, recorded against one of its contacts."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            records.check_customer_input(cr)
            customer = await uow.customers.get(cr.customer_id, read_scope(ctx.principal))
            if customer is None or not customer.has_live_contact(contact_id):
                raise InvalidInput([FieldError("/contact_id", "contact_unknown")])
            await uow.change_requests.add_customer_input(cr.id, cr.round, contact_id, opinion,
                                                         ctx.principal.id, new_id(), now)
            return await self._save(uow, ctx, cr, "customer_input_recorded", cr.snapshot(),
                                    now, {"contact_id": str(contact_id)})

    # implementation and review -------------------------------------------------------

    async def add_task(self, ctx: RequestContext, cr_id: UUID, title: str, assignee_id: UUID,
                       due_date: date | None) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            records.check_task_planning(cr, ctx.principal)
            assignee = await uow.users.get(assignee_id)
            if assignee is None or not assignee.active:
                raise InvalidInput([FieldError("/assignee_id", "owner_unknown")])
            task = Task(id=new_id(), title=title, assignee_id=assignee_id, due_date=due_date,
                        status=TaskStatus.OPEN, waive_reason=None, version=1, created_at=now,
                        updated_at=now)
            await uow.change_requests.add_task(cr.id, task)
            cr.tasks.append(task)
            return await self._save(uow, ctx, cr, "task_added", cr.snapshot(), now,
                                    {"task_id": str(task.id), "title": title})

    async def set_task_status(self, ctx: RequestContext, cr_id: UUID, task_id: UUID,
                              expected_version: int, status: TaskStatus,
                              waive_reason: str | None) -> View:
        """The assignee or an implementer moves a task; waiving needs a reason."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            task = next((t for t in cr.tasks if t.id == task_id), None)
            if task is None:
                raise NotFound(entity="task")
            records.check_task_mover(cr, task, ctx.principal)
            check_version(task.version, expected_version)
            task = records.moved(cr, task, status, waive_reason, now)
            cr.tasks = [task if t.id == task.id else t for t in cr.tasks]
            await uow.change_requests.save_task(task)
            return await self._save(uow, ctx, cr, f"task_{status.value}", cr.snapshot(), now,
                                    {"task_id": str(task.id)})

    async def add_progress(self, ctx: RequestContext, cr_id: UUID, percent: int,
                           note: str) -> View:
        return await self._log_entry(ctx, cr_id, "progress_reported", {
            "percent": percent, "note": note}, "add_progress")

    async def add_communication(self, ctx: RequestContext, cr_id: UUID,
                                contact_id: UUID | None, channel: str, summary: str,
                                reported_at: datetime) -> View:
        """及时汇报进展: what was reported to the customer, when, through which channel."""
        return await self._log_entry(ctx, cr_id, "customer_informed", {
            "contact_id": contact_id, "channel": channel, "summary": summary,
            "reported_at": reported_at}, "add_communication")

    async def record_review(self, ctx: RequestContext, cr_id: UUID, expected_version: int,
                            review: ReviewInput) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, expected_version)
            records.check_review(cr, ctx.principal)
            before = cr.snapshot()
            cr = replace(cr, goals_met=review.goals_met, actual_cost=review.actual_cost,
                         actual_schedule_days=review.actual_schedule_days,
                         customer_satisfaction=review.customer_satisfaction,
                         lessons_learned=review.lessons_learned or None,
                         reviewed_by=ctx.principal.id, reviewed_at=now)
            return await self._save(uow, ctx, cr, "reviewed", before, now,
                                    {"goals_met": review.goals_met,
                                     "customer_satisfaction": review.customer_satisfaction})

    # helpers -------------------------------------------------------------------------

    async def _visible(self, uow: UnitOfWork, ctx: RequestContext,
                       cr_id: UUID) -> ChangeRequest:
        assert ctx.principal is not None
        cr = await uow.change_requests.get(cr_id, read_scope(ctx.principal))
        if cr is None:
            cr = await self._as_deputy(uow, ctx.principal, cr_id, for_update=False)
        return cr

    async def _locked(self, uow: UnitOfWork, ctx: RequestContext, cr_id: UUID,
                      expected_version: int | None) -> ChangeRequest:
        """The row lock makes concurrent actions on one change take turns; the version
        check then refuses whoever acted on a stale view."""
        assert ctx.principal is not None
        cr = await uow.change_requests.get(cr_id, read_scope(ctx.principal), for_update=True)
        if cr is None:
            cr = await self._as_deputy(uow, ctx.principal, cr_id, for_update=True)
        if expected_version is not None:
            check_version(cr.version, expected_version)
        return cr

    async def _as_deputy(self, uow: UnitOfWork, principal: Principal, cr_id: UUID, *,
                         for_update: bool) -> ChangeRequest:
        """A deputy reaches a change outside their own scope (a head of another department
        standing in for this one's) while a delegation in force lets them decide its
        current step; to anyone else it does not exist."""
        cr = await uow.change_requests.get(cr_id, RecordScope(Reach.ALL), for_update=for_update)
        now = self._clock.now()
        if cr is None or not stands_in(cr.facts(), principal,
                                       await self._delegations(uow, cr, now), now):
            raise NotFound(entity="change_request")
        return cr

    async def _delegations(self, uow: UnitOfWork, cr: ChangeRequest,
                           now: datetime) -> list[Delegation]:
        """Delegations in force for the current step's role and the next pending step's,
        in one read: who may decide now and, once this decision is made, who may next."""
        roles = cr.deciding_roles()
        if not roles:
            return []
        return await uow.change_requests.active_delegations(
            roles[0], roles[1] if len(roles) > 1 else None, now)

    async def _log_entry(self, ctx: RequestContext, cr_id: UUID, event: str,
                         values: dict[str, Any], method: str) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            records.check_report(cr, ctx.principal)
            row = {"id": new_id(), **values, "author_id": ctx.principal.id, "created_at": now}
            await getattr(uow.change_requests, method)(cr.id, row)
            return await self._save(uow, ctx, cr, event, cr.snapshot(), now,
                                    {k: v for k, v in values.items() if v is not None})

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, cr: ChangeRequest, event: str,
                    before: dict[str, Any], now: datetime,
                    data: dict[str, Any] | None = None,
                    delegations: list[Delegation] | None = None) -> View:
        cr.version += 1
        cr.updated_at = now
        await uow.change_requests.save(cr)
        self._announce(uow, cr, event, before, now, data or {})
        # The caller's view is read inside the transaction: nothing in it changes the
        # delegations it reads, and reading after commit cost another transaction.
        view = await self._view(uow, ctx, cr, now, delegations)
        await uow.commit()
        return view

    @staticmethod
    def _announce(uow: UnitOfWork, cr: ChangeRequest, event: str,
                  before: dict[str, Any] | None, now: datetime, data: dict[str, Any]) -> None:
        """Audited and announced in the same transaction; the customer's timeline shows it."""
        uow.record_change(f"change_request.{event}", "change_request", cr.id, before=before,
                          after={**cr.snapshot(), **data},
                          event={"title": cr.title, "state": cr.state,
                                 "requester_id": cr.requester_id, **data}, at=now,
                          customer_id=cr.customer_id)

    async def _view(self, uow: UnitOfWork, ctx: RequestContext, cr: ChangeRequest,
                    now: datetime, delegations: list[Delegation] | None = None) -> View:
        assert ctx.principal is not None
        if delegations is None:
            delegations = await self._delegations(uow, cr, now)
        return View(cr, workflow.allowed_actions(cr.facts(), ctx.principal, delegations, now),
                    frozenset(s.id for s in cr.steps if overdue(s, now)))


def _became_current(done: workflow.Outcome) -> dict[str, Any]:
    """The step an action made current, for whoever must now decide it to be told
    (notifications read it from the event)."""
    step = done.timed or (done.chain[0] if done.chain else None)
    if step is None:
        return {}
    return {"current_step": {"position": step.position, "role": step.role,
                             "department_id": step.department_id, "due_at": step.due_at}}
