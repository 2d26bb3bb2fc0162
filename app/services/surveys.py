"""满意度调查 use cases: templates, invitations with single-use tokens, the public answer
page, and the automatic invitations after a change closes and at a handover's 30-day mark
(the scheduler hook ``run_automation``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope
from app.domain.common.errors import (
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
    TooManyRequests,
)
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.domain.customers.model import Customer
from app.domain.handovers.model import Handover
from app.domain.surveys.model import (
    Automation,
    Invitation,
    InvitationUnknown,
    Question,
    Template,
    Trigger,
    answers_from_form,
    check_answers,
    check_open,
    check_questions,
    new_token,
    token_hash,
)
from app.services.policies import BUSINESS_CALENDAR, SURVEY_AUTOMATION, load_policy, store_policy
from app.services.ports import Clock, RequestContext
from app.services.ports.surveys import InvitationSender, SurveyMessage
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PUBLIC_PATH = "/api/v1/public/surveys/"


@dataclass(frozen=True)
class PublicLimits:
    """Attempts one client address may make on the public survey endpoints per window
    (wrong tokens included, so guessing is as slow as answering)."""

    attempts: int = 30
    window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Issued:
    """An invitation and its token, shown once to whoever invited."""

    invitation: Invitation
    token: str
    link: str
    survey_name: str


@dataclass(frozen=True)
class PublicSurvey:
    """All a token reveals: the survey's name and questions."""

    name: str
    questions: list[Question]
    expires_at: datetime


class SurveyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sender: InvitationSender,
                 limits: PublicLimits = PublicLimits(), link_base: str = PUBLIC_PATH) -> None:
        self._uow = uow
        self._link_base = link_base  # the token is appended
        self._clock = clock
        self._sender = sender
        self._limits = limits

    # templates -----------------------------------------------------------------------

    async def create_template(self, ctx: RequestContext, name: str,
                              questions: list[Question]) -> Template:
        check_questions(questions)
        now = self._clock.now()
        template = Template(new_id(), name, questions, ctx.actor.id, now)
        async with self._uow(ctx) as uow:
            await uow.surveys.add_template(template)
            uow.record_change("survey_template.created", "survey_template", template.id,
                              after={"name": name, "questions": len(questions)})
            await uow.commit()
        return template

    async def archive_template(self, ctx: RequestContext, template_id: UUID,
                               expected_version: int) -> Template:
        async with self._uow(ctx) as uow:
            template = await uow.surveys.get_template(template_id)
            if template is None:
                raise NotFound(entity="survey_template")
            check_version(template.version, expected_version)
            if template.archived_at is not None:
                raise InvalidState(state="archived")
            template.archived_at, template.version = self._clock.now(), template.version + 1
            await uow.surveys.save_template(template)
            uow.record_change("survey_template.archived", "survey_template", template.id)
            await uow.commit()
        return template

    async def template(self, ctx: RequestContext, template_id: UUID) -> Template:
        async with self._uow(ctx, write=False) as uow:
            template = await uow.surveys.get_template(template_id)
        if template is None:
            raise NotFound(entity="survey_template")
        return template

    async def templates(self, ctx: RequestContext, include_archived: bool,
                        page: PageRequest) -> Page[Template]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.surveys.list_templates(include_archived, page)

    # invitations ---------------------------------------------------------------------

    async def invite(self, ctx: RequestContext, template_id: UUID, customer_id: UUID,
                     contact_id: UUID, expires_in_days: int | None) -> Issued:
        """A manager invites one of their customer's contacts."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(customer_id, write_scope(ctx.actor))
            if customer is None or customer.archived_at is not None:
                raise InvalidInput([FieldError("/customer_id", "customer_unknown")])
            automation, _ = await load_policy(uow, SURVEY_AUTOMATION)
            issued = await self._issue(uow, template_id, customer, contact_id, Trigger.MANUAL,
                                       None, expires_in_days or automation.expires_in_days,
                                       ctx.actor.id, now)
            await uow.commit()
        await self._deliver(issued)
        return issued

    async def revoke(self, ctx: RequestContext, invitation_id: UUID) -> Invitation:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            invitation = await uow.surveys.get_invitation(
                invitation_id, write_scope(ctx.actor), for_update=True)
            if invitation is None:
                raise NotFound(entity="survey_invitation")
            if invitation.revoked_at is not None:
                raise InvalidState(state="revoked")
            if invitation.responded_at is not None:
                raise InvalidState(state="answered")
            invitation.revoked_at = now
            await uow.surveys.save_invitation(invitation)
            uow.record_change("survey_invitation.revoked", "survey_invitation", invitation.id,
                              event={}, at=now, customer_id=invitation.customer_id)
            await uow.commit()
        return invitation

    async def invitations(self, ctx: RequestContext, template_id: UUID | None,
                          customer_id: UUID | None, page: PageRequest) -> Page[Invitation]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.surveys.list_invitations(read_scope(ctx.actor),
                                                      template_id, customer_id, page)

    async def run_automation(self, ctx: RequestContext, limit: int = 200) -> int:
        """The scheduler hook: invite the primary contact after each closed change and at
        each strict handover's 30-day mark, once per source; returns how many were sent."""
        now = self._clock.now()
        sent: list[Issued] = []
        async with self._uow(ctx) as uow:
            automation: Automation
            automation, _ = await load_policy(uow, SURVEY_AUTOMATION)
            calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
            due: list[tuple[Trigger, UUID, UUID]] = []
            if await _usable(uow, automation.change_request_closed_template_id):
                due += [(Trigger.CHANGE_REQUEST_CLOSED, src, cust) for src, cust in
                        await uow.surveys.closed_changes_to_survey(limit)]
            if await _usable(uow, automation.handover_pulse_template_id):
                due += [(Trigger.HANDOVER_PULSE, src, cust) for src, cust in
                        await uow.surveys.handover_pulses_due(calendar.local_date(now), limit)]
            for trigger, source_id, customer_id in due:
                customer = await uow.customers.get(customer_id, RecordScope(Reach.ALL))
                primary = next((c for c in customer.live_contacts() if c.is_primary),
                               None) if customer else None
                template_id = automation.template_for(trigger)
                if customer is None or primary is None or template_id is None:
                    continue  # nobody to ask; a later run finds it again once there is
                sent.append(await self._issue(uow, template_id, customer, primary.id, trigger,
                                              source_id, automation.expires_in_days, None,
                                              now))
            await uow.commit()
        for issued in sent:
            await self._deliver(issued)
        return len(sent)

    async def automation(self, ctx: RequestContext) -> tuple[Automation, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, SURVEY_AUTOMATION)

    async def set_automation(self, ctx: RequestContext, automation: Automation,
                             expected_version: int) -> int:
        async with self._uow(ctx) as uow:
            for template_id in (automation.change_request_closed_template_id,
                                automation.handover_pulse_template_id):
                if template_id and not await _usable(uow, template_id):
                    raise InvalidInput([FieldError("/template_id", "survey_template_unknown")])
            version = await store_policy(uow, SURVEY_AUTOMATION, automation, expected_version,
                                         str(ctx.actor.id), self._clock.now())
            await uow.commit()
            return version

    # the public page -----------------------------------------------------------------

    async def public_read(self, ctx: RequestContext, token: str) -> PublicSurvey:
        await self._throttle(ctx)
        async with self._uow(ctx, write=False) as uow:
            invitation = await uow.surveys.invitation_by_token(token_hash(token))
            if invitation is None:
                raise InvitationUnknown()
            check_open(invitation, self._clock.now())
            template = await uow.surveys.get_template(invitation.template_id)
            assert template is not None
            return PublicSurvey(template.name, template.questions, invitation.expires_at)

    async def public_submit(self, ctx: RequestContext, token: str,
                            answers: dict[str, Any]) -> None:
        """Once per invitation: the row lock makes a double submit answer 409 exactly once."""
        await self._submit(ctx, token, lambda _questions: answers)

    async def public_submit_form(self, ctx: RequestContext, token: str,
                                 fields: dict[str, list[str]]) -> None:
        """The answer page's form: its string fields read against the survey's questions,
        then recorded exactly as ``public_submit`` does."""
        await self._submit(ctx, token, lambda questions: answers_from_form(questions, fields))

    async def _submit(self, ctx: RequestContext, token: str,
                      answers_of: Callable[[list[Question]], dict[str, Any]]) -> None:
        await self._throttle(ctx)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            invitation = await uow.surveys.invitation_by_token(token_hash(token),
                                                                for_update=True)
            if invitation is None:
                raise InvitationUnknown()
            check_open(invitation, now)
            template = await uow.surveys.get_template(invitation.template_id)
            customer = await uow.customers.get(invitation.customer_id, RecordScope(Reach.ALL))
            assert template is not None and customer is not None
            answers = answers_of(template.questions)
            scores = check_answers(template.questions, answers)
            response_id = new_id()
            await uow.surveys.add_response(
                {"id": response_id, "invitation_id": invitation.id,
                 "template_id": template.id, "customer_id": invitation.customer_id,
                 "submitted_at": now, "answers": answers},
                [{"response_id": response_id, "question_id": s.question_id,
                  "kind": s.kind.value, "value": s.value, "template_id": template.id,
                  "customer_id": invitation.customer_id,
                  "department_id": invitation.department_id, "owner_id": invitation.owner_id,
                  "tier": customer.tier.value, "submitted_at": now} for s in scores])
            invitation.responded_at = now
            await uow.surveys.save_invitation(invitation)
            uow.record_change("survey.answered", "survey_invitation", invitation.id,
                              after={"scores": {s.kind: s.value for s in scores}},
                              event={"scores": {s.question_id: s.value for s in scores},
                                     "trigger": invitation.trigger},
                              at=now, customer_id=invitation.customer_id)
            await uow.commit()

    # helpers -------------------------------------------------------------------------

    async def _issue(self, uow: UnitOfWork, template_id: UUID, customer: Customer,
                     contact_id: UUID, trigger: Trigger, source_id: UUID | None, days: int,
                     actor: UUID | None, now: datetime) -> Issued:
        template = await uow.surveys.get_template(template_id)
        if template is None or template.archived_at is not None:
            raise InvalidInput([FieldError("/template_id", "survey_template_unknown")])
        if not customer.has_live_contact(contact_id):
            raise InvalidInput([FieldError("/contact_id", "contact_unknown")])
        token, hashed = new_token()
        invitation = Invitation(
            id=new_id(), template_id=template.id, customer_id=customer.id,
            contact_id=contact_id, department_id=customer.department_id,
            owner_id=customer.owner_id, trigger=trigger, source_id=source_id,
            token_hash=hashed, expires_at=now + timedelta(days=days), created_by=actor,
            created_at=now)
        await uow.surveys.add_invitation(invitation)
        data = {"template_id": template.id, "trigger": trigger, "contact_id": contact_id,
                "source_id": source_id}
        uow.record_change("survey_invitation.created", "survey_invitation", invitation.id,
                          after=data, event=data, at=now, customer_id=customer.id)
        return Issued(invitation, token, self._link_base + token, template.name)

    async def _deliver(self, issued: Issued) -> None:
        invitation = issued.invitation
        await self._sender.send(SurveyMessage(
            invitation.id, invitation.customer_id, invitation.contact_id, issued.survey_name,
            issued.link, invitation.expires_at))

    async def _throttle(self, ctx: RequestContext) -> None:
        await throttle(self._uow, ctx, self._clock.now(), self._limits, "survey")


async def throttle(uow_factory: UnitOfWorkFactory, ctx: RequestContext, now: datetime,
                   limits: PublicLimits, kind: str) -> None:
    """Counts an attempt on a public, token-keyed endpoint per client address, in its own
    transaction so refused ones count too; 429 once the window's attempts are used up."""
    key = f"{kind}:{ctx.client_addr or 'unknown'}"
    async with uow_factory(ctx) as uow:
        attempts = await uow.login_throttle.failures_since(key, now - limits.window)
        if attempts.count >= limits.attempts:
            oldest = attempts.oldest or now
            retry = oldest + limits.window - now
            raise TooManyRequests(retry_after_s=max(1, int(retry.total_seconds()) + 1))
        await uow.login_throttle.record_failure(key, now)
        await uow.commit()


async def _move_invitations(uow: UnitOfWork, h: Handover,
                            now: datetime) -> list[dict[str, Any]]:
    return await uow.surveys.reassign_open(h.customer_id, h.from_manager_id, h.to_manager_id,
                                           now)


# Open invitations move with a transferred customer (wired in app.main): the receiving
# manager sees and may revoke them, and the answers count for them.
HANDOVER_TRANSFER = ("survey_invitations", "survey_invitation", _move_invitations)


async def _usable(uow: UnitOfWork, template_id: UUID | None) -> bool:
    """Whether the automation may send this template: an archived one sends nothing (as
    none would), rather than failing the whole run for every other trigger too."""
    if template_id is None:
        return False
    template = await uow.surveys.get_template(template_id)
    return template is not None and template.archived_at is None


