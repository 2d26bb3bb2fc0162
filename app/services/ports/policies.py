"""Port for the administrators' policies stored as settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class PolicyRepository(Protocol):
    """Administrator policies, stored as versioned JSON values by name."""

    async def get(self, name: str) -> tuple[dict[str, Any], int] | None: ...
    async def put(self, name: str, value: dict[str, Any], version: int, now: datetime,
                  actor_id: str | None) -> None: ...
