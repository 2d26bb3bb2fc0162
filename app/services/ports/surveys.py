"""Ports of surveys: templates, invitations, answers, and their delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.surveys.model import Invitation, Template


@dataclass(frozen=True)
class SurveyMessage:
    """A survey invitation to deliver: to whom, and the link that answers it."""

    invitation_id: UUID
    customer_id: UUID
    contact_id: UUID
    survey_name: str
    link: str
    expires_at: datetime


class InvitationSender(Protocol):
    """Delivers survey invitations (e-mail, SMS, WeChat): outside the transaction, after
    the invitation is stored."""

    async def send(self, message: SurveyMessage) -> None: ...


@dataclass(frozen=True)
class ScoreRow:
    """One scored survey answer with the segment it counts in."""

    kind: str
    value: int
    submitted_at: datetime
    department_id: UUID
    owner_id: UUID
    tier: str
    template_id: UUID


class SurveyRepository(Protocol):
    async def add_template(self, template: Template) -> None: ...
    async def save_template(self, template: Template) -> None: ...
    async def get_template(self, template_id: UUID) -> Template | None: ...
    async def list_templates(self, include_archived: bool,
                             page: PageRequest) -> Page[Template]: ...
    async def add_invitation(self, invitation: Invitation) -> None: ...
    async def save_invitation(self, invitation: Invitation) -> None: ...
    async def get_invitation(self, invitation_id: UUID, scope: RecordScope, *,
                             for_update: bool = False) -> Invitation | None: ...
    async def invitation_by_token(self, token_hash: str, *,
                                  for_update: bool = False) -> Invitation | None: ...
    async def list_invitations(self, scope: RecordScope, template_id: UUID | None,
                               customer_id: UUID | None,
                               page: PageRequest) -> Page[Invitation]: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Invitations still open (not answered, revoked or expired) follow the customer."""
        ...
    async def add_response(self, response: dict[str, Any],
                           scores: list[dict[str, Any]]) -> None: ...
    async def closed_changes_to_survey(self, limit: int) -> list[tuple[UUID, UUID]]:
        """(change request, customer) of closed changes with no invitation yet."""
        ...
    async def handover_pulses_due(self, today: date,
                                  limit: int) -> list[tuple[UUID, UUID]]:
        """(handover, customer) whose satisfaction pulse is due with no invitation yet."""
        ...
    async def scores(self, scope: RecordScope, since: datetime | None, until: datetime | None,
                     department_id: UUID | None,
                     template_id: UUID | None) -> list[ScoreRow]: ...
    async def customer_scores(self, customer_id: UUID, since: datetime) -> list[ScoreRow]: ...
    async def invitation_counts(self, scope: RecordScope, since: datetime | None,
                                until: datetime | None, department_id: UUID | None,
                                template_id: UUID | None) -> tuple[int, int]:
        """(invitations sent, invitations answered) in the period."""
        ...
