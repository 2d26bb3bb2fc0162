"""Partial updates of a record from an input value object (a dataclass of the fields a
person may set): one rule for what an update leaves as it was, whatever the feature.
An input's ``fields_set``, where it has one, names the fields sent and is no field."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace
from typing import Any, TypeVar

T = TypeVar("T")
SENT = "fields_set"


def _names(values: Any) -> list[str]:
    return [f.name for f in fields(values) if f.name != SENT]


def sent_values(values: Any) -> dict[str, Any]:
    """The fields the input's ``fields_set`` names, with their values."""
    return {name: getattr(values, name) for name in values.fields_set}


def filled_in(sent: T, current: object, given: Collection[str]) -> T:
    """``sent`` with every field not in ``given`` taken from ``current``: a partial update
    made whole, so the rules of entry check the record as it will be."""
    kept = {name: getattr(current, name) for name in _names(sent) if name not in given}
    return replace(sent, **kept)  # type: ignore[type-var]


def taking(record: T, values: Any) -> T:
    """``record`` with every field of the input ``values``."""
    taken = {name: getattr(values, name) for name in _names(values)}
    return replace(record, **taken)  # type: ignore[type-var]
