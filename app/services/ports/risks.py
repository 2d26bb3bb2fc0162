"""Ports of the risk register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import Risk, RiskStatus


@dataclass(frozen=True)
class RiskFilter:
    status: RiskStatus | None = None
    level: RiskLevel | None = None
    owner_id: UUID | None = None
    customer_id: UUID | None = None
    plan_id: UUID | None = None
    department_id: UUID | None = None
    open_only: bool = False
    review_due_by: date | None = None


class RiskRepository(Protocol):
    async def add(self, risk: Risk) -> None: ...
    async def save(self, risk: Risk) -> None: ...
    async def get(self, risk_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Risk | None: ...
    async def list(self, scope: RecordScope, filters: RiskFilter,
                   page: PageRequest) -> Page[Risk]: ...
    async def heatmap(self, scope: RecordScope,
                      filters: RiskFilter) -> dict[tuple[int, int], int]: ...
    async def ratings(self) -> list[tuple[UUID, int, int, RiskLevel]]: ...
    async def set_level(self, risk_id: UUID, level: RiskLevel) -> None: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Open risks of a customer that its old owner owned pass to the new one."""
        ...
