"""Whether a record exists at all, whoever may see it: a 404 on a record that exists is a
refusal the audit log keeps (``AuditService.record_denial``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables import api_keys, departments, users
from app.repositories.tables_change_requests import change_requests, cr_tasks, delegations
from app.repositories.tables_customers import contacts, customers
from app.repositories.tables_feedback import feedback_items, survey_invitations, survey_templates
from app.repositories.tables_handovers import handovers
from app.repositories.tables_knowledge import knowledge_articles
from app.repositories.tables_risks import risks

# The entity names NotFound carries, and their tables (each keyed by a UUID ``id``).
TABLES: dict[str, Table] = {
    "user": users, "department": departments, "api_key": api_keys,
    "customer": customers, "contact": contacts, "change_request": change_requests,
    "task": cr_tasks, "delegation": delegations, "handover": handovers,
    "feedback": feedback_items, "survey_template": survey_templates,
    "survey_invitation": survey_invitations, "knowledge_article": knowledge_articles,
    "risk": risks,
}


class SqlRecordDirectory:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def existing(self, entity_type: str, ids: Sequence[str]) -> str | None:
        table = TABLES.get(entity_type)
        uuids = []
        for value in ids:
            try:
                uuids.append(UUID(value))
            except ValueError:
                continue
        if table is None or not uuids:
            return None
        found = await self._conn.scalar(
            select(table.c.id).where(table.c.id.in_(uuids)).limit(1))
        return str(found) if found is not None else None
