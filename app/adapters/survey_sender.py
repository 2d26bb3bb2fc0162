"""Survey invitation delivery — a STUB: it writes a log line instead of sending e-mail,
SMS or WeChat. A real sender implements ``InvitationSender`` and is wired in ``app.main``.

The link is a secret (whoever holds it answers the survey): the stub logs it only in
development, where someone exploring the API needs it; in production it logs the
invitation id alone."""

from __future__ import annotations

import structlog

from app.services.ports.surveys import SurveyMessage

log = structlog.get_logger("accord.survey_sender")


class LoggingInvitationSender:
    def __init__(self, *, reveal_links: bool) -> None:
        self._reveal = reveal_links

    async def send(self, message: SurveyMessage) -> None:
        log.info("survey_invitation_stub_delivery", invitation_id=str(message.invitation_id),
                 customer_id=str(message.customer_id), contact_id=str(message.contact_id),
                 survey=message.survey_name, expires_at=message.expires_at.isoformat(),
                 link=message.link if self._reveal else "(withheld outside development)")
