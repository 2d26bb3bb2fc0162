"""Port for reading the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from app.domain.audit.chain import AuditRecord
from app.domain.common.paging import Page, PageRequest


class AuditLogReader(Protocol):
    def entries(self, batch_size: int = 1000) -> AsyncIterator[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def list(self, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]: ...
