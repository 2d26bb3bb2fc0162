"""Keyset pagination values shared by use cases and adapters (never OFFSET)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Sort:
    """A stable sort: one field, then the id as tie-breaker, both in one direction."""

    field: str
    descending: bool = False

    @classmethod
    def parse(cls, raw: str) -> Sort:
        return cls(raw.removeprefix("-"), raw.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field


@dataclass(frozen=True)
class PageRequest:
    sort: Sort
    limit: int = DEFAULT_LIMIT
    after: tuple[Any, ...] | None = None  # (sort value, id) of the last row seen


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: tuple[Any, ...] | None = field(default=None)
