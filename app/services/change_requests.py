"""变更管理 use cases: request, assess, approve, implement, review. Every state change goes
through the workflow table in the domain (``workflow.check``) inside one transaction with
the change request's row locked, so two people acting at once never both succeed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.access.scope import write_scope as customer_write_scope
from app.domain.change_requests import workflow
from app.domain.change_requests.access import read_scope
from app.domain.change_requests.approval_policy import (
    ApprovalPolicy,
    Delegation,
    approval_chain,
    check_decider,
    overdue,
)
from app.domain.change_requests.model import (
    ApprovalStep,
    AssessmentEntry,
    ChangeRequest,
    CRCategory,
    CRState,
    CRType,
    GoalsMet,
    Priority,
    Recommendation,
    StepStatus,
    Task,
    TaskStatus,
)
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
)
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.domain.risk.matrix import RiskMatrix
from app.services.knowledge import KnowledgeService
from app.services.policies import (
    APPROVAL_POLICY,
    BUSINESS_CALENDAR,
    RISK_MATRIX,
    load_policy,
    store_policy,
)
from app.services.ports import (
    ChangeRequestFilter,
    Clock,
    RequestContext,
    UnitOfWork,
    UnitOfWorkFactory,
)

# What each action announces (change_request.<event>); approvals name the step.
EVENTS = {
    "submit": "submitted", "start_assessment": "assessment_started",
    "conclude_assessment": "assessment_concluded", "approve": "step_approved",
    "reject": "rejected", "return": "returned", "return_from_assessment": "returned",
    "start_implementation": "implementation_started",
    "complete_implementation": "implemented", "review_emergency": "emergency_reviewed",
    "close": "closed", "cancel": "cancelled",
}


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
class AssessmentInput:
    necessity: int
    feasibility: int
    scope_impact: str
    schedule_days: int
    cost: Decimal
    resources: str
    likelihood: int
    impact: int
    recommendation: Recommendation
    comment: str


@dataclass(frozen=True)
class Conclusion:
    cost: Decimal
    currency: str
    schedule_days: int
    likelihood: int
    impact: int
    recommendation: Recommendation
    summary: str


@dataclass(frozen=True)
class ReviewInput:
    goals_met: GoalsMet
    actual_cost: Decimal
    actual_schedule_days: int
    customer_satisfaction: int
    lessons_learned: str


@dataclass(frozen=True)
class View:
    """A change request as one caller sees it: what they may do and which step is late."""

    cr: ChangeRequest
    allowed_actions: list[str]
    overdue_step: int | None


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
            return await self._view(uow, ctx, cr)

    async def list(self, ctx: RequestContext, filters: ChangeRequestFilter,
                   page: PageRequest) -> Page[ChangeRequest]:
        assert ctx.principal is not None
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
            return await self._view(uow, ctx, cr)

    async def update_draft(self, ctx: RequestContext, cr_id: UUID, expected_version: int,
                           form: DraftInput) -> View:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, expected_version)
            if cr.state not in (CRState.DRAFT, CRState.RETURNED):
                raise InvalidState(state="not_editable")
            if ctx.principal is None or ctx.principal.id != cr.requester_id:
                raise workflow.NotYourAction(action="edit", parties="requester")
            before = cr.snapshot()
            changes = {name: getattr(form, name) for name in form.fields_set}
            if "attachments" in changes:
                changes["attachments"] = list(changes["attachments"])
            cr = replace(cr, **changes)
            return await self._save(uow, ctx, cr, "updated", before, now)

    # transitions ---------------------------------------------------------------------

    async def transition(self, ctx: RequestContext, cr_id: UUID, expected_version: int,
                         action: str, comment: str = "",
                         conclusion: Conclusion | None = None,
                         step_id: UUID | None = None) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, expected_version)
            delegations = await self._delegations(uow, cr, now)
            target = workflow.check(cr.facts(), action, ctx.principal, delegations, now,
                                    step_id)
            before = cr.snapshot()
            data: dict[str, Any] = {"action": action, "from": cr.state, "to": target,
                                    "comment": comment}
            if action == "submit":
                cr.round += 1
                cr.steps = []  # a new round starts without approvals (the last round's stay)
                if cr.type is CRType.EMERGENCY:
                    await self._plan_steps(uow, cr, None, now)
            elif action == "conclude_assessment":
                if conclusion is None:
                    raise InvalidInput([FieldError("/conclusion", "missing")])
                await self._conclude(uow, cr, conclusion, ctx.principal, now)
                data["chain"] = [s.role for s in cr.steps]
            elif action in ("approve", "reject", "return"):
                step = next(s for s in cr.steps if s.id == step_id) if step_id \
                    else cr.facts().current_step()
                assert step is not None
                deputy_for = await self._decider(cr, step, ctx.principal, delegations, now)
                step.status = {"approve": StepStatus.APPROVED, "reject": StepStatus.REJECTED,
                               "return": StepStatus.RETURNED}[action]
                step.decided_by, step.decided_at = ctx.principal.id, now
                step.on_behalf_of, step.comment = deputy_for, comment
                await uow.change_requests.save_step(step)
                data.update(step=step.position, role=step.role,
                            on_behalf_of=str(deputy_for) if deputy_for else None)
            elif action == "review_emergency":
                cr.emergency_reviewed_by, cr.emergency_reviewed_at = ctx.principal.id, now
            elif action == "close" and cr.lessons_learned:
                article = await self._knowledge.create_from_change_request(
                    uow, ctx, f"变更经验：{cr.title}"[:200], self._lesson_body(cr),
                    [cr.category.value], cr.id, cr.customer_id, now)
                cr.knowledge_article_id = article.id
                data["knowledge_article_id"] = str(article.id)
            cr.state = target
            event = EVENTS[action]
            if action == "approve" and target is CRState.APPROVED:
                event = "approved"
            # Deciding a step makes the next pending step current, whose role the
            # delegations read above cover; a new plan needs its own.
            replanned = action in ("submit", "conclude_assessment")
            return await self._save(uow, ctx, cr, event, before, now, data,
                                    None if replanned else delegations)

    @staticmethod
    def _lesson_body(cr: ChangeRequest) -> str:
        """The article a closed change leaves behind: what was asked, estimated and done."""
        lines = [f"## {cr.title}", "", cr.description, "",
                 f"- 原因 / reason: {cr.reason}", f"- 预期效果 / expected: {cr.expected_effect}",
                 f"- 估算 / estimated: {cr.estimated_cost} {cr.currency}, "
                 f"{cr.estimated_schedule_days} d",
                 f"- 实际 / actual: {cr.actual_cost} {cr.currency}, {cr.actual_schedule_days} d",
                 f"- 目标达成 / goals met: {cr.goals_met}",
                 f"- 客户满意度 / satisfaction: {cr.customer_satisfaction}/5", "",
                 "### 经验教训 / lessons learned", "", cr.lessons_learned or ""]
        return "\n".join(lines)[:20_000]

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
                             entry: AssessmentInput) -> View:
        """A panel member's assessment; one per member per round."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            if cr.state is not CRState.ASSESSING:
                raise InvalidState(state="not_assessing")
            roles = ctx.principal.roles & {Role.PROJECT_MANAGER, Role.TECH_EXPERT}
            if not roles:
                raise workflow.NotYourAction(action="assess",
                                             parties="project_manager, tech_expert")
            if any(a.assessor_id == ctx.principal.id for a in cr.current_round_assessments()):
                raise InvalidState(state="already_assessed")
            recorded = AssessmentEntry(
                id=new_id(), round=cr.round, assessor_id=ctx.principal.id,
                assessor_role=Role.PROJECT_MANAGER if Role.PROJECT_MANAGER in roles
                else Role.TECH_EXPERT, created_at=now, **entry.__dict__)
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
            if cr.state is not CRState.ASSESSING:
                raise InvalidState(state="not_assessing")
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
            self._implementer(cr, ctx.principal)
            if cr.state not in (CRState.APPROVED, CRState.IMPLEMENTING):
                raise InvalidState(state="not_implementing")
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
            if ctx.principal.id != task.assignee_id:
                self._implementer(cr, ctx.principal)
            check_version(task.version, expected_version)
            if cr.state is not CRState.IMPLEMENTING:
                raise InvalidState(state="not_implementing")
            if status is TaskStatus.WAIVED and not (waive_reason or "").strip():
                raise InvalidInput([FieldError("/waive_reason", "missing")])
            task.status, task.updated_at, task.version = status, now, task.version + 1
            task.waive_reason = waive_reason if status is TaskStatus.WAIVED else None
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
            self._implementer(cr, ctx.principal)
            if cr.state is not CRState.IMPLEMENTED:
                raise InvalidState(state="not_implemented")
            before = cr.snapshot()
            cr = replace(cr, goals_met=review.goals_met, actual_cost=review.actual_cost,
                         actual_schedule_days=review.actual_schedule_days,
                         customer_satisfaction=review.customer_satisfaction,
                         lessons_learned=review.lessons_learned or None,
                         reviewed_by=ctx.principal.id, reviewed_at=now)
            return await self._save(uow, ctx, cr, "reviewed", before, now,
                                    {"goals_met": review.goals_met,
                                     "customer_satisfaction": review.customer_satisfaction})

    # policies and delegation ---------------------------------------------------------

    async def policy(self, ctx: RequestContext) -> tuple[ApprovalPolicy, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, APPROVAL_POLICY)

    async def set_policy(self, ctx: RequestContext, policy: ApprovalPolicy,
                         expected_version: int) -> int:
        return await self._store(ctx, APPROVAL_POLICY, policy, expected_version)

    async def calendar(self, ctx: RequestContext) -> tuple[BusinessCalendar, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, BUSINESS_CALENDAR)

    async def set_calendar(self, ctx: RequestContext, calendar: BusinessCalendar,
                           expected_version: int) -> int:
        return await self._store(ctx, BUSINESS_CALENDAR, calendar, expected_version)

    async def _store(self, ctx: RequestContext, kind: Any, value: Any,
                     expected_version: int) -> int:
        async with self._uow(ctx) as uow:
            actor = str(ctx.principal.id) if ctx.principal else None
            version = await store_policy(uow, kind, value, expected_version, actor,
                                         self._clock.now())
            await uow.commit()
            return version

    async def delegate(self, ctx: RequestContext, delegator_id: UUID, deputy_id: UUID,
                       role: Role, starts_at: datetime, ends_at: datetime) -> dict[str, Any]:
        """While away, an approver names a deputy holding the same role (admins may set it
        up for them)."""
        assert ctx.principal is not None
        if ctx.principal.id != delegator_id and Role.ADMIN not in ctx.principal.roles:
            raise workflow.NotYourAction(action="delegate", parties="the approver, admin")
        if ends_at <= starts_at:
            raise InvalidInput([FieldError("/ends_at", "ends_before_start")])
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            delegator, deputy = await uow.users.get(delegator_id), await uow.users.get(deputy_id)
            if delegator is None or role not in delegator.roles:
                raise InvalidInput([FieldError("/delegator_id", "delegator_lacks_role")])
            if deputy is None or not deputy.active or role not in deputy.roles \
                    or deputy.id == delegator.id:
                raise InvalidInput([FieldError("/deputy_id", "deputy_lacks_role")])
            values = {"id": new_id(), "delegator_id": delegator_id, "deputy_id": deputy_id,
                      "role": role, "starts_at": starts_at, "ends_at": ends_at,
                      "created_by": ctx.principal.id, "created_at": now, "revoked_at": None}
            await uow.change_requests.add_delegation(values)
            uow.record("delegation.created", "delegation", values["id"],
                       after={k: str(v) for k, v in values.items() if v is not None})
            uow.emit(DomainEvent("delegation.created", "delegation", values["id"], now,
                                 {"role": role, "deputy_id": str(deputy_id)}))
            await uow.commit()
            return values

    async def revoke_delegation(self, ctx: RequestContext, delegation_id: UUID) -> None:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            found = await uow.change_requests.delegation(delegation_id)
            if found is None or (found["delegator_id"] != ctx.principal.id
                                 and Role.ADMIN not in ctx.principal.roles):
                raise NotFound(entity="delegation")
            if found["revoked_at"] is not None:
                raise InvalidState(state="revoked")
            await uow.change_requests.revoke_delegation(delegation_id, now)
            uow.record("delegation.revoked", "delegation", delegation_id)
            uow.emit(DomainEvent("delegation.revoked", "delegation", delegation_id, now, {}))
            await uow.commit()

    async def delegations(self, ctx: RequestContext) -> list[dict[str, Any]]:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            mine = None if Role.ADMIN in ctx.principal.roles else ctx.principal.id
            return await uow.change_requests.delegations_of(mine)

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
        awaiting = cr is not None and cr.state is CRState.AWAITING_APPROVAL
        step = cr.facts().current_step() if cr is not None and awaiting else None
        if cr is None or step is None:
            raise NotFound(entity="change_request")
        now = self._clock.now()
        mine = [d for d in await self._delegations(uow, cr, now) if d.deputy_id == principal.id]
        try:
            if mine and check_decider(cr.facts(), step, principal, mine, now) is not None:
                return cr
        except DomainError:
            pass
        raise NotFound(entity="change_request")

    async def _delegations(self, uow: UnitOfWork, cr: ChangeRequest,
                           now: datetime) -> list[Delegation]:
        """Delegations in force for the current step's role and the next pending step's,
        in one read: who may decide now and, once this decision is made, who may next."""
        pending = [s for s in cr.steps if s.status is StepStatus.PENDING]
        if not pending:
            return []
        return await uow.change_requests.active_delegations(
            pending[0].role, pending[1].role if len(pending) > 1 else None, now)

    @staticmethod
    async def _decider(cr: ChangeRequest, step: ApprovalStep, principal: Principal,
                       delegations: list[Delegation], now: datetime) -> UUID | None:
        return check_decider(cr.facts(), step, principal, delegations, now)

    @staticmethod
    def _implementer(cr: ChangeRequest, principal: Principal) -> None:
        if principal.id != cr.requester_id and Role.PROJECT_MANAGER not in principal.roles:
            raise workflow.NotYourAction(action="implement",
                                         parties="requester, project_manager")

    async def _conclude(self, uow: UnitOfWork, cr: ChangeRequest, conclusion: Conclusion,
                        principal: Principal, now: datetime) -> None:
        matrix: RiskMatrix
        matrix, _ = await load_policy(uow, RISK_MATRIX)
        cr.estimated_cost, cr.currency = conclusion.cost, conclusion.currency
        cr.estimated_schedule_days = conclusion.schedule_days
        cr.likelihood, cr.impact = conclusion.likelihood, conclusion.impact
        cr.risk_level = matrix.level(conclusion.likelihood, conclusion.impact)
        cr.recommendation, cr.assessment_summary = conclusion.recommendation, conclusion.summary
        cr.concluded_by, cr.concluded_at = principal.id, now
        await self._plan_steps(uow, cr, cr.risk_level, now)

    async def _plan_steps(self, uow: UnitOfWork, cr: ChangeRequest, risk: Any,
                          now: datetime) -> None:
        policy, _ = await load_policy(uow, APPROVAL_POLICY)
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        due = calendar.add_working_time(now, policy.step_due)
        plan = approval_chain(cr.type, cr.category, cr.estimated_cost, risk, cr.department_id,
                              policy)
        cr.steps = [ApprovalStep(new_id(), i, p.role, p.department_id, due)
                    for i, p in enumerate(plan, 1)]
        await uow.change_requests.replace_steps(cr.id, cr.round, cr.steps)

    async def _log_entry(self, ctx: RequestContext, cr_id: UUID, event: str,
                         values: dict[str, Any], method: str) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            cr = await self._locked(uow, ctx, cr_id, None)
            self._implementer(cr, ctx.principal)
            if cr.state not in (CRState.APPROVED, CRState.IMPLEMENTING, CRState.IMPLEMENTED):
                raise InvalidState(state="not_implementing")
            row = {"id": new_id(), **values, "author_id": ctx.principal.id, "created_at": now}
            await getattr(uow.change_requests, method)(cr.id, row)
            return await self._save(uow, ctx, cr, event, cr.snapshot(), now,
                                    {k: str(v) for k, v in values.items() if v is not None})

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
        view = await self._view(uow, ctx, cr, delegations)
        await uow.commit()
        return view

    @staticmethod
    def _announce(uow: UnitOfWork, cr: ChangeRequest, event: str,
                  before: dict[str, Any] | None, now: datetime, data: dict[str, Any]) -> None:
        """Audited and announced in the same transaction; the customer's timeline shows it."""
        name = f"change_request.{event}"
        uow.record(name, "change_request", cr.id, before=before,
                   after={**cr.snapshot(), **{k: str(v) for k, v in data.items()}})
        uow.emit(DomainEvent(name, "change_request", cr.id, now,
                             {"title": cr.title, "state": cr.state,
                              **{k: v if isinstance(v, (str, int, list)) or v is None
                                 else str(v) for k, v in data.items()}},
                             customer_id=cr.customer_id))

    async def _view(self, uow: UnitOfWork, ctx: RequestContext, cr: ChangeRequest,
                    delegations: list[Delegation] | None = None) -> View:
        assert ctx.principal is not None
        now = self._clock.now()
        if delegations is None:
            delegations = await self._delegations(uow, cr, now)
        late = next((s.position for s in cr.steps if overdue(s, now)), None)
        return View(cr, workflow.allowed_actions(cr.facts(), ctx.principal, delegations, now),
                    late)
