"""The reporting period of the report routes: ``since`` and ``until`` as UTC days, given
to the use cases as the instants they start."""

# No ``from __future__ import annotations``: the query descriptions are built per call,
# so FastAPI must see the annotations evaluated.
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Query

from app.api.v1.schemas.base import Day


@dataclass(frozen=True)
class Period:
    since: datetime | None
    until: datetime | None


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def period_params(what: str) -> Callable[..., Period]:
    """A dependency reading ``since`` (inclusive) and ``until`` (exclusive); ``what`` names
    the moment that falls in the period (e.g. "Received")."""

    async def dependency(
        since: Annotated[Day | None, Query(description=f"{what} on or after (UTC day)")]
        = None,
        until: Annotated[Day | None, Query(description=f"{what} before (UTC day)")] = None,
    ) -> Period:
        return Period(_start(since), _start(until))

    return dependency
