"""Ports every use case shares: who acts (the request context) and the clock.

Feature ports live beside them, one module per feature (``ports.customers``,
``ports.change_requests`` …); the unit of work that exposes their repositories is
``ports.unit_of_work``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.access.principal import Principal


@dataclass(frozen=True)
class RequestContext:
    """Who acts and through which request; the unit of work stamps it on audit entries."""

    principal: Principal | None
    request_id: str | None = None
    client_addr: str | None = None

    @property
    def actor(self) -> Principal:
        """The caller of a use case that needs one (its route declared who may call)."""
        assert self.principal is not None
        return self.principal


class Clock(Protocol):
    def now(self) -> datetime: ...
