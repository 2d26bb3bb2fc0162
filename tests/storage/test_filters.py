"""The shared list and report filters: a filter left out matches every row; a period is
half-open (a row at ``until`` belongs to the next period)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select

from app.repositories.filters import where_given, within_period

rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True),
             Column("state", String), Column("owner", Integer),
             Column("at", DateTime(timezone=True)))
JAN, FEB = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def sql(*conditions: object) -> str:
    return str(select(rows.c.id).where(*conditions).compile(  # type: ignore[arg-type]
        compile_kwargs={"literal_binds": True}))


def test_only_the_filters_given_become_conditions() -> None:
    assert where_given([(rows.c.state, None), (rows.c.owner, None)]) == []
    [owner] = where_given([(rows.c.state, None), (rows.c.owner, 7)])
    assert sql(owner).endswith("WHERE rows.owner = 7")


def test_a_value_that_is_falsy_but_given_still_filters() -> None:
    assert len(where_given([(rows.c.state, ""), (rows.c.owner, 0)])) == 2


def test_a_period_is_half_open_and_either_end_may_be_left_open() -> None:
    assert within_period(rows.c.at, None, None) == []
    text = sql(*within_period(rows.c.at, JAN, FEB))
    assert "rows.at >= '2026-01-01 00:00:00+00:00'" in text
    assert "rows.at < '2026-02-01 00:00:00+00:00'" in text
    assert "<=" not in text.split("WHERE")[1]
    assert ">=" in sql(*within_period(rows.c.at, JAN, None))
    assert ">" not in sql(*within_period(rows.c.at, None, FEB)).split("WHERE")[1]
