"""Which events an endpoint receives: exact types (``change_request.approved``) or every
type under a prefix (``change_request.*``); ``*`` alone is every event."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_PREFIX = re.compile(r"^([a-z][a-z0-9_]*\.)+\*$")
MAX_EVENT_TYPES = 50


def valid_pattern(pattern: str) -> bool:
    return pattern == "*" or bool(_TYPE.match(pattern)) or bool(_PREFIX.match(pattern))


def matches(pattern: str, event_type: str) -> bool:
    """``a.*`` matches ``a.b`` and ``a.b.c`` but not ``a`` nor ``ab.c``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribed(patterns: Iterable[str], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)


def normalised(patterns: Iterable[str]) -> tuple[str, ...]:
    """Sorted, without repeats: the stored form."""
    return tuple(sorted(set(patterns)))
