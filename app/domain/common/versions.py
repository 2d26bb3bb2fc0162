"""Optimistic concurrency: every versioned record carries a counter that If-Match names."""

from app.domain.common.errors import VersionMismatch


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise VersionMismatch(current=current, expected=expected)
