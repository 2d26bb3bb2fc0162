"""Ports for the audit log: reading it, its signed checkpoints, and whether a record a
caller was refused exists at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from app.domain.audit.chain import AuditRecord
from app.domain.audit.checkpoint import Checkpoint
from app.domain.common.paging import Page, PageRequest


class AuditLogReader(Protocol):
    def entries(self, batch_size: int = 1000) -> AsyncIterator[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def list(self, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]: ...
    async def checkpoints(self) -> list[Checkpoint]: ...
    async def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...


class RecordDirectory(Protocol):
    async def existing(self, entity_type: str, ids: Sequence[str]) -> str | None:
        """The first of ``ids`` naming a record of ``entity_type`` that exists, in anyone's
        scope; None when none does (or the type is not one kept by id)."""
        ...
