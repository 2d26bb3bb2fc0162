"""Survey templates, invitations, responses and scored answers in SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import RecordScope
from app.domain.change_requests.model import CRState
from app.domain.common.paging import Page, PageRequest
from app.domain.handovers.model import HandoverState
from app.domain.surveys.model import Invitation, Question, QuestionKind, Template, Trigger
from app.repositories.filters import within_period
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.tables_change_requests import change_requests
from app.repositories.tables_feedback import (
    survey_invitations,
    survey_responses,
    survey_scores,
    survey_templates,
)
from app.repositories.tables_handovers import handovers
from app.services.ports.surveys import ScoreRow

TEMPLATE_SORTS = {"created_at": survey_templates.c.created_at}
INVITATION_SORTS = {"created_at": survey_invitations.c.created_at}
_SCORE_COLUMNS = (survey_scores.c.kind, survey_scores.c.value, survey_scores.c.submitted_at,
                  survey_scores.c.department_id, survey_scores.c.owner_id, survey_scores.c.tier,
                  survey_scores.c.template_id)


def _template(row: Row[Any]) -> Template:
    m = row._mapping
    return Template(m["id"], m["name"],
                    [Question(q["id"], QuestionKind(q["kind"]), q["text"],
                              tuple(q.get("options", ())), q.get("required", True))
                     for q in m["questions"]],
                    m["created_by"], m["created_at"], m["archived_at"], m["version"])


def _template_values(t: Template) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "created_by": t.created_by, "created_at": t.created_at,
            "archived_at": t.archived_at, "version": t.version,
            "questions": [{"id": q.id, "kind": q.kind.value, "text": q.text,
                           "options": list(q.options), "required": q.required}
                          for q in t.questions]}


def _invitation(row: Row[Any]) -> Invitation:
    values = dict(row._mapping)
    values["trigger"] = Trigger(values["trigger"])
    return Invitation(**values)


class SqlSurveyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @staticmethod
    def _scope(scope: RecordScope, table: Any) -> ColumnElement[bool]:
        return scope_filter(scope, department=table.c.department_id, owner=table.c.owner_id)

    async def add_template(self, template: Template) -> None:
        await self._conn.execute(insert(survey_templates).values(**_template_values(template)))

    async def save_template(self, template: Template) -> None:
        values = _template_values(template)
        values.pop("id")
        await self._conn.execute(update(survey_templates)
                                 .where(survey_templates.c.id == template.id).values(**values))

    async def get_template(self, template_id: UUID) -> Template | None:
        row = (await self._conn.execute(select(survey_templates).where(
            survey_templates.c.id == template_id))).one_or_none()
        return _template(row) if row else None

    async def list_templates(self, include_archived: bool,
                             page: PageRequest) -> Page[Template]:
        stmt = select(survey_templates)
        if not include_archived:
            stmt = stmt.where(survey_templates.c.archived_at.is_(None))
        rows = (await self._conn.execute(keyset(stmt, TEMPLATE_SORTS, survey_templates.c.id,
                                                page))).all()
        return to_page(rows, page, _template, lambda r: (r.created_at, r.id))

    async def add_invitation(self, invitation: Invitation) -> None:
        await self._conn.execute(insert(survey_invitations).values(**invitation.__dict__))

    async def save_invitation(self, invitation: Invitation) -> None:
        await self._conn.execute(update(survey_invitations)
                                 .where(survey_invitations.c.id == invitation.id)
                                 .values(responded_at=invitation.responded_at,
                                         revoked_at=invitation.revoked_at))

    async def get_invitation(self, invitation_id: UUID, scope: RecordScope, *,
                             for_update: bool = False) -> Invitation | None:
        stmt = select(survey_invitations).where(survey_invitations.c.id == invitation_id,
                                                self._scope(scope, survey_invitations))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _invitation(row) if row else None

    async def invitation_by_token(self, token_hash: str, *,
                                  for_update: bool = False) -> Invitation | None:
        stmt = select(survey_invitations).where(survey_invitations.c.token_hash == token_hash)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _invitation(row) if row else None

    async def list_invitations(self, scope: RecordScope, template_id: UUID | None,
                               customer_id: UUID | None,
                               page: PageRequest) -> Page[Invitation]:
        stmt = select(survey_invitations).where(self._scope(scope, survey_invitations))
        if template_id is not None:
            stmt = stmt.where(survey_invitations.c.template_id == template_id)
        if customer_id is not None:
            stmt = stmt.where(survey_invitations.c.customer_id == customer_id)
        rows = (await self._conn.execute(keyset(stmt, INVITATION_SORTS,
                                                survey_invitations.c.id, page))).all()
        return to_page(rows, page, _invitation, lambda r: (r.created_at, r.id))

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = (await self._conn.execute(
            update(survey_invitations)
            .where(survey_invitations.c.customer_id == customer_id,
                   survey_invitations.c.owner_id == from_id,
                   survey_invitations.c.responded_at.is_(None),
                   survey_invitations.c.revoked_at.is_(None),
                   survey_invitations.c.expires_at > now)
            .values(owner_id=to_id).returning(survey_invitations.c.id))).all()
        return [{"id": str(r.id)} for r in moved]

    async def add_response(self, response: dict[str, Any],
                           scores: list[dict[str, Any]]) -> None:
        await self._conn.execute(insert(survey_responses).values(**response))
        if scores:
            await self._conn.execute(insert(survey_scores), scores)

    def _not_invited(self, trigger: Trigger, source: Any) -> ColumnElement[bool]:
        return ~select(survey_invitations.c.id).where(
            survey_invitations.c.trigger == trigger.value,
            survey_invitations.c.source_id == source).exists()

    async def closed_changes_to_survey(self, limit: int) -> list[tuple[UUID, UUID]]:
        rows = await self._conn.execute(
            select(change_requests.c.id, change_requests.c.customer_id)
            .where(change_requests.c.state == CRState.CLOSED.value,
                   self._not_invited(Trigger.CHANGE_REQUEST_CLOSED, change_requests.c.id))
            .order_by(change_requests.c.updated_at, change_requests.c.id).limit(limit))
        return [(r.id, r.customer_id) for r in rows]

    async def handover_pulses_due(self, today: date, limit: int) -> list[tuple[UUID, UUID]]:
        rows = await self._conn.execute(
            select(handovers.c.id, handovers.c.customer_id)
            .where(handovers.c.pulse_due_on <= today,
                   handovers.c.state.in_((HandoverState.TRANSFERRED.value,
                                          HandoverState.FOLLOWED_UP.value)),
                   self._not_invited(Trigger.HANDOVER_PULSE, handovers.c.id))
            .order_by(handovers.c.pulse_due_on, handovers.c.id).limit(limit))
        return [(r.id, r.customer_id) for r in rows]

    async def scores(self, scope: RecordScope, since: datetime | None, until: datetime | None,
                     department_id: UUID | None, template_id: UUID | None) -> list[ScoreRow]:
        conditions = [self._scope(scope, survey_scores),
                      *within_period(survey_scores.c.submitted_at, since, until)]
        if department_id is not None:
            conditions.append(survey_scores.c.department_id == department_id)
        if template_id is not None:
            conditions.append(survey_scores.c.template_id == template_id)
        rows = await self._conn.execute(
            select(*_SCORE_COLUMNS).where(and_(*conditions))
            .order_by(survey_scores.c.submitted_at))
        return [ScoreRow(**r._mapping) for r in rows]

    async def customer_scores(self, customer_id: UUID, since: datetime) -> list[ScoreRow]:
        rows = await self._conn.execute(
            select(*_SCORE_COLUMNS).where(survey_scores.c.customer_id == customer_id,
                                          survey_scores.c.submitted_at >= since))
        return [ScoreRow(**r._mapping) for r in rows]

    async def invitation_counts(self, scope: RecordScope, since: datetime | None,
                                until: datetime | None, department_id: UUID | None,
                                template_id: UUID | None) -> tuple[int, int]:
        conditions = [self._scope(scope, survey_invitations),
                      *within_period(survey_invitations.c.created_at, since, until)]
        if department_id is not None:
            conditions.append(survey_invitations.c.department_id == department_id)
        if template_id is not None:
            conditions.append(survey_invitations.c.template_id == template_id)
        row = (await self._conn.execute(
            select(func.count(), func.count(survey_invitations.c.responded_at))
            .where(and_(*conditions)))).one()
        return int(row[0]), int(row[1])
