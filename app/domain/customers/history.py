"""档案更新: the field-by-field difference between two snapshots of a record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Every field whose value differs, in a stable (alphabetical) order; a missing side
    (creation, removal) counts as ``None``."""
    before, after = before or {}, after or {}
    return [FieldChange(name, before.get(name), after.get(name))
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)]
