"""Bad input on the handover endpoints, on both engines: ids that are not UUIDs (422) or
name nothing (404), wrong types, unknown fields, text over its limit, a missing (428) or
stale (412) If-Match; each refused request leaves the database exactly as it was. Chinese,
emoji and SQL-looking text is stored and returned verbatim, and a replayed sign-off with
the same Idempotency-Key answers the first answer without signing twice."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import audit_log, idempotency_keys, outbox
from app.repositories.tables_customers import customer_timeline, customers
from app.repositories.tables_handovers import (
    handover_findings,
    handover_items,
    handover_notifications,
    handover_signatures,
    handovers,
)
from tests.customer_support import if_match
from tests.db import row_count, rows
from tests.handover_support import (
    HANDOVERS,
    customer_of_tier,
    ok,
    path_of,
    post,
    prepare,
    read,
    start,
)
from tests.support import Actors, assert_problem, audit_entries, field_errors, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNKNOWN = "00000000-0000-4000-8000-000000000000"
TEXT = "交接纪要：客户资料已逐项核对 ✅🤝 — 𠀀𪚥 (emoji 👩🏽‍💼, 全角：ＡＢＣ)"
SQL_LIKE = ["'; DROP TABLE handovers; --", "1' OR '1'='1", "Robert'); DELETE FROM customers;--",
            "%_\\' \" `"]


async def footprint(app: FastAPI, h: dict[str, Any]) -> dict[str, Any]:
    """Everything stored about the handover and its customer, and how many audit entries,
    outbox events, timeline rows and idempotency keys exist: equal footprints mean a
    request changed nothing."""
    handover_id, customer_id = UUID(h["id"]), UUID(h["customer_id"])

    def sort(found: list[Any]) -> list[tuple[Any, ...]]:
        return sorted((tuple(r) for r in found), key=repr)

    return {
        "handover": sort(await rows(app, handovers, id=handover_id)),
        **{t.name: sort(await rows(app, t, handover_id=handover_id))
           for t in (handover_items, handover_findings, handover_signatures,
                     handover_notifications)},
        "customer": sort(await rows(app, customers, id=customer_id)),
        **{t.name: await row_count(app, t)
           for t in (audit_log, outbox, customer_timeline, idempotency_keys)},
    }


async def assert_refused_changed_nothing(app: FastAPI, client: httpx.AsyncClient,
                                         actors: Actors, h: dict[str, Any],
                                         before: dict[str, Any],
                                         read_before: dict[str, Any]) -> None:
    assert await footprint(app, h) == before
    assert await read(client, actors.admin, h) == read_before


async def handover(client: httpx.AsyncClient, actors: Actors, tier: str = "C",
                   **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = await customer_of_tier(client, actors.am_east, tier)
    return await start(client, actors.am_east, customer, actors.am_east2, **fields), customer


async def preparing(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    """A light handover (tier C) in ``preparing``: meeting, findings and sign are open."""
    h, _ = await handover(client, actors)
    assert h["level"] == "light"
    return await ok(client, actors.am_east, h, "/start-preparation")


async def test_ids_that_are_not_uuids_are_422_and_unknown_ids_404(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    h = await preparing(client, actors)
    before, read_before = await footprint(app, h), await read(client, actors.admin, h)
    am = actors.am_east
    versioned = {**am.headers, **if_match(h)}

    for response, where in (
            (await client.get(f"{HANDOVERS}/not-a-uuid", headers=am.headers), "handover_id"),
            (await client.post(f"{HANDOVERS}/42/sign", headers=versioned), "handover_id"),
            (await client.post(path_of(h, "/findings/abc/resolve"), headers=am.headers,
                               json={"resolution": "已处理"}), "finding_id"),
            (await client.get(HANDOVERS, headers=am.headers, params={"customer_id": "x"}),
             "customer_id")):
        errors = field_errors(response)
        assert list(errors.values()) == ["uuid_parsing"], errors
        assert where in next(iter(errors)), errors
    created = await client.post(HANDOVERS, headers=am.headers, json={
        "customer_id": "客户一", "to_manager_id": actors.am_east2.id, "reason": "reassignment"})
    assert field_errors(created) == {"/customer_id": "uuid_parsing"}

    for response, entity in (
            (await client.get(f"{HANDOVERS}/{UNKNOWN}", headers=am.headers), "handover"),
            (await client.post(f"{HANDOVERS}/{UNKNOWN}/sign", headers=versioned), "handover"),
            (await client.post(path_of(h, f"/findings/{UNKNOWN}/resolve"), headers=am.headers,
                               json={"resolution": "已处理"}), "finding"),
            (await client.post(path_of(h, "/checklist/no_such_item/verify"),
                               headers=am.headers), "checklist item"),
            (await client.post(HANDOVERS, headers=am.headers, json={
                "customer_id": UNKNOWN, "to_manager_id": actors.am_east2.id,
                "reason": "reassignment"}), "customer")):
        problem = assert_problem(response, 404, "not_found")
        assert problem["detail"] == f"No {entity} with this id is visible to you.", problem
    unknown_taker = await client.post(HANDOVERS, headers=am.headers, json={
        "customer_id": h["customer_id"], "to_manager_id": UNKNOWN, "reason": "reassignment"})
    assert field_errors(unknown_taker) == {"/to_manager_id": "receiving_manager_unknown"}
    await assert_refused_changed_nothing(app, client, actors, h, before, read_before)


async def test_wrong_types_and_unknown_fields_are_refused_field_by_field(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    h = await preparing(client, actors)
    before, read_before = await footprint(app, h), await read(client, actors.admin, h)
    am = actors.am_east

    async def refused(suffix: str, body: Any, versioned: bool = True) -> dict[str, str]:
        return field_errors(await post(client, am, h, suffix, body, versioned=versioned))

    assert await refused("/meeting", {"held_on": "明天", "attendees": "张三",
                                      "minutes": 7}) == {
        "/held_on": "date_from_datetime_parsing", "/attendees": "list_type",
        "/minutes": "string_type"}
    assert await refused("/findings", {"item": 3, "text": ["缺少"]}, versioned=False) == {
        "/item": "string_type", "/text": "string_type"}
    assert await refused("/findings", {"item": "contacts", "text": "缺少财务联系人",
                                       "resolved_at": "2026-01-01T00:00:00Z"},
                         versioned=False) == {"/resolved_at": "extra_forbidden"}
    assert await refused("/meeting", {"held_on": "2026-12-01", "attendees": ["张三"],
                                      "version": 99, "state": "transferred"}) == {
        "/version": "extra_forbidden", "/state": "extra_forbidden"}
    assert await refused("/cancel", {"reason": "客户撤回", "cancelled_by": am.id}) == {
        "/cancelled_by": "extra_forbidden"}
    assert await refused("/notifications", {"stakeholder": "boss", "channel": "pigeon"},
                         versioned=False) == {"/stakeholder": "enum", "/channel": "enum"}
    assert await refused("/cancel", {"reason": ""}) == {"/reason": "string_too_short"}
    not_json = await client.post(path_of(h, "/cancel"), content=b"reason=x", headers={
        **am.headers, **if_match(h), "Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(not_json, 415, "unsupported_media_type")
    started = await client.post(HANDOVERS, headers=am.headers, json={
        "customer_id": h["customer_id"], "to_manager_id": actors.am_east2.id,
        "reason": "bored", "planned_date": "2026-13-40", "note": 5, "level": "light"})
    assert field_errors(started) == {
        "/reason": "enum", "/planned_date": "date_from_datetime_parsing",
        "/note": "string_type", "/level": "extra_forbidden"}
    await assert_refused_changed_nothing(app, client, actors, h, before, read_before)


async def test_text_over_its_limit_is_422_and_text_at_the_limit_is_kept_whole(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of_tier(client, actors.am_east, "C")
    too_long = await client.post(HANDOVERS, headers=actors.am_east.headers, json={
        "customer_id": customer["id"], "to_manager_id": actors.am_east2.id,
        "reason": "reassignment", "note": "注" * 2001})
    assert field_errors(too_long) == {"/note": "string_too_long"}
    assert await row_count(app, handovers, customer_id=UUID(customer["id"])) == 0
    h = await start(client, actors.am_east, customer, actors.am_east2, note="注" * 2000)
    assert h["note"] == "注" * 2000
    h = await ok(client, actors.am_east, h, "/start-preparation")
    before, read_before = await footprint(app, h), await read(client, actors.admin, h)
    meeting = {"held_on": "2026-12-01", "attendees": ["交接人", "接收人"]}

    for suffix, body, pointer in (
            ("/meeting", {**meeting, "minutes": "纪" * 20_001}, "/minutes"),
            ("/cancel", {"reason": "因" * 2001}, "/reason"),
            ("/meeting", {**meeting, "attendees": ["人"] * 51}, "/attendees")):
        response = await post(client, actors.am_east, h, suffix, body)
        assert field_errors(response)[pointer] in ("string_too_long", "too_long"), response.text
    for body in ({"item": "contacts", "text": "缺" * 5001},
                 {"item": "k" * 49, "text": "缺少"}):
        response = await post(client, actors.am_east, h, "/findings", body, versioned=False)
        assert set(field_errors(response).values()) == {"string_too_long"}, response.text
    await assert_refused_changed_nothing(app, client, actors, h, before, read_before)

    held = await ok(client, actors.am_east, h, "/meeting", {**meeting, "minutes": "纪" * 20_000})
    assert held["meeting"]["minutes"] == "纪" * 20_000
    [row] = await rows(app, handovers, id=UUID(h["id"]))
    assert row.meeting["minutes"] == "纪" * 20_000


async def test_chinese_emoji_and_sql_looking_text_round_trip_verbatim(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker = actors.am_east, actors.am_east2
    h, _ = await handover(client, actors, note=SQL_LIKE[0] + TEXT)
    assert h["note"] == SQL_LIKE[0] + TEXT
    h = await ok(client, giver, h, "/start-preparation")
    h = await ok(client, giver, h, "/meeting", {
        "held_on": "2026-12-01", "attendees": ["王芳 👩‍💼", SQL_LIKE[1]], "minutes": TEXT})
    for text in [TEXT, *SQL_LIKE]:
        h = await ok(client, taker, h, "/findings", {"item": "contacts", "text": text},
                     versioned=False)
    for finding in h["findings"]:
        h = await ok(client, giver, h, f"/findings/{finding['id']}/resolve",
                     {"resolution": finding["text"] + " ✔ 已解决"}, versioned=False)
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    h = await ok(client, taker, h, "/follow-up", {
        "contacted_on": h["follow_up_due"], "channel": "wechat", "outcome": TEXT + SQL_LIKE[2]})

    again = await read(client, actors.head_east, h)
    assert again["note"] == SQL_LIKE[0] + TEXT
    assert again["meeting"]["minutes"] == TEXT
    assert again["meeting"]["attendees"] == ["王芳 👩‍💼", SQL_LIKE[1]]
    assert [f["text"] for f in again["findings"]] == [TEXT, *SQL_LIKE]
    assert [f["resolution"] for f in again["findings"]] == [
        t + " ✔ 已解决" for t in [TEXT, *SQL_LIKE]]
    assert again["follow_up"]["outcome"] == TEXT + SQL_LIKE[2]
    stored = await rows(app, handover_findings, handover_id=UUID(h["id"]))
    assert sorted(f.text for f in stored) == sorted([TEXT, *SQL_LIKE])
    [row] = await rows(app, handovers, id=UUID(h["id"]))
    assert (row.note, row.meeting["minutes"], row.follow_up["outcome"]) == (
        SQL_LIKE[0] + TEXT, TEXT, TEXT + SQL_LIKE[2])
    assert await row_count(app, handovers) >= 1  # the "dropped" table is alive and well


async def test_a_missing_or_stale_if_match_is_refused_and_changes_nothing(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    h = await preparing(client, actors)
    before, read_before = await footprint(app, h), await read(client, actors.admin, h)
    stale = {**h, "version": h["version"] - 1}
    bodies: dict[str, dict[str, Any]] = {
        "/sign": {}, "/cancel": {"reason": "客户撤回"},
        "/meeting": {"held_on": "2026-12-01", "attendees": ["交接人"]}}

    for suffix, body in bodies.items():
        missing = await post(client, actors.am_east2, h, suffix, body, versioned=False)
        assert_problem(missing, 428, "precondition_required")
        outdated = await post(client, actors.am_east2, stale, suffix, body)
        assert_problem(outdated, 412, "precondition_failed")
        weak = await client.post(path_of(h, suffix), json=body, headers={
            **actors.am_east2.headers, "If-Match": f'W/"{h["version"]}"'})
        assert_problem(weak, 412, "precondition_failed")
    await assert_refused_changed_nothing(app, client, actors, h, before, read_before)


async def test_a_replayed_sign_with_the_same_key_answers_the_same_and_signs_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    h, customer = await handover(client, actors, tier="B")
    assert h["level"] == "standard"
    h = await prepare(client, actors, h, customer, actors.am_east, actors.am_east2)
    key = unique("sign")

    first = await post(client, actors.am_east, h, "/sign", key=key)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    assert first.json()["missing_signatures"] == ["receiving"]
    after_first = await footprint(app, h)
    replay = await post(client, actors.am_east, h, "/sign", key=key)

    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["etag"] == first.headers["etag"] == f'"{h["version"] + 1}"'
    assert await footprint(app, h) == after_first
    signatures = await rows(app, handover_signatures, handover_id=UUID(h["id"]))
    assert [(s.role, str(s.signer_id)) for s in signatures] == [
        ("handing_over", actors.am_east.id)]
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "handover",
                                                          h["id"])]
    assert actions.count("handover.signature_given") == 1
    assert actions.count("handover.signed_by") == 1
    # Without the key, signing again is refused: nobody signs twice.
    fresh = await read(client, actors.admin, h)
    twice = await post(client, actors.am_east, fresh, "/sign")
    assert_problem(twice, 409, "already_signed")
    assert await footprint(app, h) == after_first
    other = await post(client, actors.am_east2, fresh, "/sign", key=str(uuid.uuid4()))
    assert other.status_code == 200, other.text
    assert other.json()["state"] == "transferred"
