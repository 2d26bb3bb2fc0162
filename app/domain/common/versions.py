"""Optimistic concurrency: every versioned record carries a counter that If-Match names."""

from dataclasses import dataclass

from app.domain.common.errors import VersionMismatch


@dataclass(frozen=True)
class AnyOf:
    """An If-Match listing several versions, or ``*`` (``versions`` None): the change
    applies to whichever of them is current (RFC 9110 §13.1.1)."""

    versions: frozenset[int] | None

    def pick(self, current: int) -> int:
        """The one version expected: the current one if it is among those named."""
        if self.versions is None or current in self.versions:
            return current
        raise VersionMismatch(current=current,
                              expected=", ".join(map(str, sorted(self.versions))) or "?")


def check_version(current: int, expected: int | AnyOf) -> None:
    expected = expected.pick(current) if isinstance(expected, AnyOf) else expected
    if current != expected:
        raise VersionMismatch(current=current, expected=expected)
