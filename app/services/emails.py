"""E-mail (issue 15 §6): an outbox table, so a use case only stages a row and never waits
for a mail server, and ``send_pending_emails``, the periodic job that renders and sends
what is due, retrying with growing pauses and giving up after about a day and a half."""

from __future__ import annotations

from datetime import timedelta

import structlog

from app.domain.access.scope import Reach, RecordScope
from app.domain.common.ids import new_id
from app.services.ports import Clock, RequestContext
from app.services.ports.notifications import (
    EmailLinks,
    EmailMessage,
    EmailRenderer,
    EmailTransport,
    EmailUndeliverable,
    OutgoingEmail,
)
from app.services.ports.surveys import SurveyMessage
from app.services.ports.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger("accord.email")

# Pauses after each failed attempt; after the last, the e-mail is given up (~1.5 days).
RETRY_PAUSES = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720))
SURVEY_INVITATION = "survey_invitation"


class EmailService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, transport: EmailTransport,
                 renderer: EmailRenderer, *, lease: timedelta = timedelta(minutes=5)) -> None:
        self._uow = uow
        self._clock = clock
        self._transport = transport
        self._renderer = renderer
        self._lease = lease

    async def send_pending_emails(self, ctx: RequestContext, limit: int = 100) -> int:
        """Send the e-mails that are due; how many went out. The claim is committed before
        sending (the lease keeps other senders off them), so no transaction waits on the
        mail server; one that dies mid-way leaves its e-mails to the next run."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            claimed = await uow.emails.claim(now, now + self._lease, limit)
            await uow.commit()
        outcomes = [(email, await self._send(email)) for email in claimed]
        if not outcomes:
            return 0
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            for email, error in outcomes:
                if error is None:
                    await uow.emails.sent(email.id, now)
                    continue
                pause = None if error[1] or email.attempts > len(RETRY_PAUSES) \
                    else RETRY_PAUSES[email.attempts - 1]
                await uow.emails.failed(email.id, error[0], now + pause if pause else None, now)
                log.warning("email_failed", email_id=str(email.id), kind=email.kind,
                            attempt=email.attempts, error=error[0],
                            given_up=pause is None)
            await uow.commit()
        return sum(1 for _, error in outcomes if error is None)

    async def _send(self, email: OutgoingEmail) -> tuple[str, bool] | None:
        """None when sent, else the error and whether it is final."""
        try:
            subject, body = self._renderer.render(email.kind, email.language, email.context)
            await self._transport.send(EmailMessage(email.to_address, subject, body,
                                                    email.language))
        except EmailUndeliverable as exc:
            return str(exc) or type(exc).__name__, True
        except Exception as exc:  # any other failure is worth another attempt
            return f"{type(exc).__name__}: {exc}", False
        log.info("email_sent", email_id=str(email.id), kind=email.kind,
                 language=email.language, attempt=email.attempts)
        return None


class QueuedInvitationSender:
    """Survey invitations by e-mail (``InvitationSender``): stages one in the e-mail
    outbox, to the contact's first e-mail address (verified ones first)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, links: EmailLinks) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links

    async def send(self, message: SurveyMessage) -> None:
        ctx = RequestContext(None, None)
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(message.customer_id, RecordScope(Reach.ALL))
            contact = next((c for c in customer.live_contacts() if c.id == message.contact_id),
                           None) if customer else None
            emails = sorted(contact.emails, key=lambda e: not e.verified) if contact else []
            if customer is None or contact is None or not emails:
                log.warning("survey_invitation_without_email",
                            invitation_id=str(message.invitation_id))
                return
            await uow.emails.add([OutgoingEmail(
                new_id(), emails[0].address, SURVEY_INVITATION, self._links.default_language,
                {"survey": message.survey_name, "customer": customer.name,
                 "contact": contact.name, "expires_at": message.expires_at.isoformat(),
                 "url": self._links.base_url.rstrip("/") + message.link},
                self._clock.now())])
            await uow.commit()
