"""The list filters every feature's ``list`` shares: equality on the columns the caller
named, a filter left out (None) matching every row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement


def where_given(pairs: Iterable[tuple[ColumnElement[Any], object]]
                ) -> list[ColumnElement[bool]]:
    """``column == value`` for each (column, value) whose value was given."""
    return [column == value for column, value in pairs if value is not None]
