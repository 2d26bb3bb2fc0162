"""The filters every feature's lists and report reads share: equality on the columns the
caller named, a period on a time column; a filter left out (None) matches every row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement


def where_given(pairs: Iterable[tuple[ColumnElement[Any], object]]
                ) -> list[ColumnElement[bool]]:
    """``column == value`` for each (column, value) whose value was given."""
    return [column == value for column, value in pairs if value is not None]


def within_period(column: ColumnElement[Any], since: datetime | None, until: datetime | None
              ) -> list[ColumnElement[bool]]:
    """``since <= column < until``, either end open when not given (the reports' periods
    are half-open, so consecutive periods never count a row twice)."""
    return [*([column >= since] if since is not None else []),
            *([column < until] if until is not None else [])]
