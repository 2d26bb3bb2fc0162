"""The customer export split in ``created_at`` ranges over several connections (issue 17
item 7, PostgreSQL): the parts written in order are the single statement's file byte for
byte, rows concatenated from their values' JSON text are spelled as ``json_build_object``
spells them, and every part reads the first one's snapshot, so a customer committed while the
export runs is in none of them. SQLite has no such path (the export goes page by page)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import TEXT, func, literal, select

from app.domain.access.scope import Reach, RecordScope
from app.repositories import bulk_copy
from app.repositories.bulk_copy import PostgresCustomerCopy
from app.repositories.tables import users
from app.repositories.tables_customers import contacts, customer_tags, customers
from app.services.ports.customers import CustomerFilter
from tests.customer_support import contact, make_customer
from tests.support import Actors, TestClock, unique


async def copied(app: FastAPI, tag: str, *, parts: int, fmt: str) -> tuple[int | None, bytes]:
    engine = app.state.engines.read
    out = bytearray()

    async def sink(block: bytes) -> None:
        out.extend(block)

    async with engine.connect() as conn:
        rows = await PostgresCustomerCopy(conn, engine, parts=parts).copy_customers(
            RecordScope(Reach.ALL), CustomerFilter(tag=tag), fmt=fmt, with_contacts=True,
            sink=sink)
    return rows, bytes(out)


async def customers_a_day_apart(client: httpx.AsyncClient, actors: Actors, clock: TestClock,
                                tag: str, count: int) -> list[str]:
    made, start = [], clock.offset
    try:
        for n in range(count):
            made.append((await make_customer(
                client, actors.am_east, tags=[tag], address='上海市 "浦东", 1号',
                custom_attributes={"序号": n, "备注": "a\tb\nc"},
                contacts=[contact(f"联系人{n}"), contact("第二位")]))["id"])
            clock.advance(days=1)
    finally:  # the suite's clock is shared: later tests expect it where they found it
        clock.offset = start
    return made


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_the_parts_in_order_are_the_single_statements_file_byte_for_byte(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock,
        monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    tag = unique("分段")
    made = await customers_a_day_apart(client, actors, clock, tag, 6)
    rows, single = await copied(app, tag, parts=1, fmt=fmt)
    if app.state.engines.dialect != "postgresql":
        assert rows is None and single == b""  # the page-by-page path exports
        return
    assert rows == 6 and all(i.encode() in single for i in made)
    part_rows: list[int] = []
    real_copy = bulk_copy._copy

    async def counted(*args: Any, **kwargs: Any) -> int:
        part_rows.append(await real_copy(*args, **kwargs))
        return part_rows[-1]

    monkeypatch.setattr(bulk_copy, "_copy", counted)
    for parts in (2, 3):
        part_rows.clear()
        assert await copied(app, tag, parts=parts, fmt=fmt) == (6, single)
        assert len(part_rows) == parts and all(part_rows)  # each range held rows


async def test_every_part_reads_the_snapshot_the_export_began_with(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    tag = unique("快照")
    await customers_a_day_apart(client, actors, clock, tag, 4)
    if app.state.engines.dialect != "postgresql":
        assert (await copied(app, tag, parts=2, fmt="jsonl"))[0] is None
        return
    late: list[str] = []
    real_part = PostgresCustomerCopy._part_in_snapshot

    @asynccontextmanager
    async def after_a_commit(self: PostgresCustomerCopy, snapshot: str) -> AsyncIterator[Any]:
        # Committed after the first part's snapshot, before the second part's connection;
        # the newest customer, so it falls in the last part's range.
        late.append((await make_customer(client, actors.am_east, tags=[tag]))["id"])
        async with real_part(self, snapshot) as driver:
            yield driver

    monkeypatch.setattr(PostgresCustomerCopy, "_part_in_snapshot", after_a_commit)
    rows, during = await copied(app, tag, parts=2, fmt="jsonl")
    assert len(late) == 1 and rows == 4
    assert late[0].encode() not in during
    monkeypatch.undo()
    rows, after = await copied(app, tag, parts=2, fmt="jsonl")
    assert rows == 5 and late[0].encode() in after


async def test_rows_concatenated_are_spelled_as_json_build_object_spells_them(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    tag = unique("拼接")
    await customers_a_day_apart(client, actors, clock, tag, 2)
    await make_customer(client, actors.am_east, tags=[tag], kind="individual",
                        name='王"五"\\\u0001', contacts=[])  # escapes, nulls, no contacts
    if app.state.engines.dialect != "postgresql":
        return  # no SQL-built rows on SQLite
    fields = bulk_copy._fields(None)
    c = contacts.c
    contact_pairs = [("name", c.name), ("title", c.title), ("phones", c.phones),
                     ("emails", c.emails), ("is_primary", c.is_primary)]
    tagged = customers.c.id.in_(select(customer_tags.c.customer_id)
                                .where(customer_tags.c.tag == tag))
    queries = [
        select(bulk_copy._object(fields), _built(fields)).select_from(
            customers.outerjoin(users, users.c.id == customers.c.owner_id)).where(tagged),
        select(bulk_copy._object(contact_pairs), _built(contact_pairs))
        .where(c.customer_id.in_(select(customers.c.id).where(tagged)))]
    async with app.state.engines.read.connect() as conn:
        pairs = [tuple(row) for q in queries for row in (await conn.execute(q)).all()]
    assert len(pairs) == 3 + 4
    assert all(concatenated == built for concatenated, built in pairs)


def _built(pairs: list[tuple[str, Any]]) -> Any:
    return func.cast(func.json_build_object(*[x for name, col in pairs
                                              for x in (literal(name), col)]), TEXT)
