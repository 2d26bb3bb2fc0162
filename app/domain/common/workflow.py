"""What the workflow tables (change requests, handovers, feedback) share: which of the
actions a state offers a caller may take now — exactly those ``check`` lets through."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.domain.common.errors import DomainError


def permitted(names: Iterable[str], check: Callable[[str], object]) -> list[str]:
    """The names for which ``check`` raises no domain error, in order."""
    allowed = []
    for name in names:
        try:
            check(name)
        except DomainError:
            continue
        allowed.append(name)
    return allowed
