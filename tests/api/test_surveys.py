"""Survey templates and invitations (满意度调查, domain §6) through the API on both engines:
templates are checked and only administrators write them, an archived template takes no
invitations; an invitation goes only to a live contact of a customer the caller may change,
its token is in the 201 answer once and never stored (only its sha256); and the automatic
invitations reach the primary contact once after a closed change and once at a strict
handover's 30-day mark."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, Table, cast, func, or_, select

from app.repositories.tables import audit_log, idempotency_keys, outbox
from app.repositories.tables_customers import customer_timeline
from app.repositories.tables_feedback import survey_invitations
from tests.change_request_support import customer_of, drive
from tests.customer_support import CUSTOMERS, contact, if_match, make_customer
from tests.db import rows
from tests.handover_support import customer_of_tier, ok, prepare, start
from tests.support import (
    Actors,
    TestClock,
    assert_problem,
    field_errors,
    list_all,
)
from tests.survey_support import (
    AUTOMATION,
    INVITATIONS,
    QUESTIONS,
    TEMPLATES,
    invite,
    invited,
    make_template,
    own_team,
    scheduler,
)

AUTOMATIC = f"{INVITATIONS}/automatic"


def question(qid: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": qid, "kind": kind, "text": f"问题 {qid}", **fields}


# Templates the domain refuses: (questions, {pointer: reason}).
BAD_TEMPLATES: list[tuple[list[dict[str, Any]], dict[str, str]]] = [
    ([question("pick", "single_choice", options=["是"])],
     {"/questions/0/options": "choices_need_two_options"}),
    ([question("pick", "single_choice")], {"/questions/0/options": "choices_need_two_options"}),
    ([question("many", "multiple_choice", options=["是", "是"])],
     {"/questions/0/options": "choices_need_two_options"}),
    ([question("nps", "nps"), question("nps", "csat")], {"/questions/1/id": "duplicate"}),
    ([question("nps", "nps", options=["0", "10"])],
     {"/questions/0/options": "options_only_for_choices"}),
    ([question("csat", "csat"), question("free", "text", options=["a", "b"])],
     {"/questions/1/options": "options_only_for_choices"}),
    ([question("a", "ces", options=["1", "7"]), question("a", "single_choice")],
     {"/questions/0/options": "options_only_for_choices", "/questions/1/id": "duplicate",
      "/questions/1/options": "choices_need_two_options"}),
]


@pytest.mark.parametrize(("questions", "errors"), BAD_TEMPLATES)
async def test_a_template_is_checked_before_it_is_stored(
        client: httpx.AsyncClient, actors: Actors, questions: list[dict[str, Any]],
        errors: dict[str, str]) -> None:
    name = f"坏模板-{uuid4().hex[:8]}"
    response = await client.post(TEMPLATES, headers=actors.admin.headers,
                                 json={"name": name, "questions": questions})
    assert field_errors(response) == errors
    listed = await list_all(client, TEMPLATES, actors.admin.headers, include_archived="true")
    assert name not in {t["name"] for t in listed}


async def test_a_template_needs_a_question_and_known_kinds(
        client: httpx.AsyncClient, actors: Actors) -> None:
    empty = await client.post(TEMPLATES, headers=actors.admin.headers,
                              json={"name": "空模板", "questions": []})
    assert "/questions" in field_errors(empty)
    unknown = await client.post(TEMPLATES, headers=actors.admin.headers, json={
        "name": "未知题型", "questions": [question("x", "slider")]})
    assert "/questions/0/kind" in field_errors(unknown)


async def test_only_administrators_write_templates_and_everyone_reads_them(
        client: httpx.AsyncClient, actors: Actors) -> None:
    body = {"name": "回访", "questions": QUESTIONS}
    for who in (actors.head_east, actors.am_east, actors.executive, actors.analyst):
        assert_problem(await client.post(TEMPLATES, headers=who.headers, json=body), 403,
                       "forbidden")
    assert_problem(await client.post(TEMPLATES, json=body), 401, "not_authenticated")
    template = await make_template(client, actors.admin, name="变更完成回访")
    assert template["name"] == "变更完成回访" and template["archived_at"] is None
    assert template["created_by"] == actors.admin.id and template["version"] == 1
    assert template["questions"] == [{"options": [], "required": True, **q} for q in QUESTIONS]
    for who in (actors.am_east, actors.auditor):
        read = await client.get(f"{TEMPLATES}/{template['id']}", headers=who.headers)
        assert read.status_code == 200 and read.json() == template
        assert read.headers["etag"] == '"1"'
    assert_problem(await client.get(f"{TEMPLATES}/{uuid4()}", headers=actors.admin.headers),
                   404, "not_found")


async def test_an_archived_template_takes_no_invitations(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    archive = f"{TEMPLATES}/{template['id']}/archive"
    assert_problem(await client.post(archive, headers=actors.admin.headers), 428,
                   "precondition_required")
    assert_problem(await client.post(archive, headers={**actors.admin.headers,
                                                       **if_match(7)}), 412,
                   "precondition_failed")
    assert_problem(await client.post(archive, headers={**actors.head_east.headers,
                                                       **if_match(template)}), 403,
                   "forbidden")
    archived = await client.post(archive, headers={**actors.admin.headers,
                                                   **if_match(template)})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None and archived.json()["version"] == 2
    assert archived.headers["etag"] == '"2"'
    assert_problem(await client.post(archive, headers={**actors.admin.headers,
                                                       **if_match(2)}), 409, "invalid_state")
    listed = {t["id"] for t in await list_all(client, TEMPLATES, actors.admin.headers)}
    assert template["id"] not in listed
    every = await list_all(client, TEMPLATES, actors.admin.headers, include_archived="true")
    assert template["id"] in {t["id"] for t in every}

    refused = await invite(client, actors.am_east, template, customer)
    assert field_errors(refused) == {"/template_id": "survey_template_unknown"}
    assert await rows(app, survey_invitations, customer_id=UUID(customer["id"])) == []
    unknown = await invite(client, actors.am_east, {"id": str(uuid4())}, customer)
    assert field_errors(unknown) == {"/template_id": "survey_template_unknown"}


async def test_an_invitation_reaches_only_live_contacts_of_customers_the_caller_changes(
        client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    mine = await make_customer(client, actors.am_east, contacts=[contact("王伟"),
                                                                 contact("张敏")])
    colleague = await customer_of(client, actors.am_east2)
    west = await customer_of(client, actors.am_west)
    for who, customer in ((actors.am_east2, mine), (actors.am_west, mine),
                          (actors.head_west, mine), (actors.am_east, colleague),
                          (actors.am_east, west), (actors.am_east, {"id": str(uuid4()),
                                                                    "contacts": [{"id": str(
                                                                        uuid4())}]})):
        refused = await invite(client, who, template, customer)
        assert field_errors(refused) == {"/customer_id": "customer_unknown"}, who.username
    for who in (actors.finance, actors.executive, actors.analyst, actors.pm):
        assert_problem(await invite(client, who, template, mine), 403, "forbidden")
    # A contact of another customer, an unknown one, an erased one.
    for contact_id in (colleague["contacts"][0]["id"], str(uuid4())):
        refused = await invite(client, actors.am_east, template, mine, contact_id=contact_id)
        assert field_errors(refused) == {"/contact_id": "contact_unknown"}
    erased_contact = mine["contacts"][1]
    erased = await client.post(
        f"{CUSTOMERS}/{mine['id']}/contacts/{erased_contact['id']}/erase",
        headers={**actors.am_east.headers, **if_match(erased_contact)})
    assert erased.status_code == 200, erased.text
    refused = await invite(client, actors.am_east, template, mine,
                           contact_id=erased_contact["id"])
    assert field_errors(refused) == {"/contact_id": "contact_unknown"}

    # The owner, the department's head and an administrator may invite.
    for who in (actors.am_east, actors.head_east, actors.admin):
        body = await invited(client, who, template, mine, expires_in_days=7)
        assert body["contact_id"] == mine["contacts"][0]["id"]
        assert (body["customer_id"], body["owner_id"], body["department_id"]) == (
            mine["id"], actors.am_east.id, actors.east)
        assert (body["trigger"], body["source_id"], body["responded_at"]) == (
            "manual", None, None)
    listed = await list_all(client, INVITATIONS, actors.am_east.headers,
                            customer_id=mine["id"])
    assert len(listed) == 3
    # An archived customer takes no invitations.
    archived = await client.post(f"{CUSTOMERS}/{colleague['id']}/archive",
                                 headers={**actors.am_east2.headers, **if_match(colleague)})
    assert archived.status_code == 200, archived.text
    refused = await invite(client, actors.am_east2, template, colleague)
    assert field_errors(refused) == {"/customer_id": "customer_unknown"}


async def test_invitations_are_listed_in_the_readers_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    east = await invited(client, actors.am_east, template,
                         await customer_of(client, actors.am_east))
    west = await invited(client, actors.am_west, template,
                         await customer_of(client, actors.am_west))
    seen = {who.username: {i["id"] for i in await list_all(
        client, INVITATIONS, who.headers, template_id=template["id"])}
        for who in (actors.am_east, actors.am_east2, actors.head_east, actors.am_west,
                    actors.executive, actors.auditor)}
    assert seen == {actors.am_east.username: {east["id"]},
                    actors.head_east.username: {east["id"]},
                    actors.am_east2.username: set(), actors.am_west.username: {west["id"]},
                    actors.executive.username: {east["id"], west["id"]},
                    actors.auditor.username: {east["id"], west["id"]}}


async def test_open_invitations_follow_a_transferred_customer(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    template = await make_template(client, actors.admin)
    customer = await customer_of_tier(client, giver, "A")
    issued = await invited(client, giver, template, customer)
    h = await prepare(client, actors, await start(client, head, customer, taker), customer,
                      giver, taker)
    for who in (giver, taker, head):
        h = await ok(client, who, h, "/sign")
    assert h["state"] == "transferred"
    assert_problem(await client.get(f"{CUSTOMERS}/{customer['id']}", headers=giver.headers),
                   404, "not_found")
    seen = {who.username: [i["id"] for i in await list_all(
        client, INVITATIONS, who.headers, customer_id=customer["id"])] for who in (giver, taker)}
    assert seen == {giver.username: [], taker.username: [issued["id"]]}
    revoke = f"{INVITATIONS}/{issued['id']}/revoke"
    assert_problem(await client.post(revoke, headers=giver.headers), 404, "not_found")
    assert (await client.post(revoke, headers=taker.headers)).status_code == 200

async def _tables_holding(app: FastAPI, text: str, tables: list[Table]) -> list[str]:
    """Names of the tables with a row whose any column, read as text, contains ``text``."""
    found = []
    async with app.state.engines.read.connect() as conn:
        for table in tables:
            match = or_(*(cast(column, String).contains(text) for column in table.c))
            if await conn.scalar(select(func.count()).select_from(table).where(match)):
                found.append(table.name)
    return found


async def test_the_token_is_shown_once_and_only_its_hash_is_stored(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    issued = await invited(client, actors.am_east, template, customer)
    token = issued["token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token  # 256 random bits
    assert datetime.fromisoformat(issued["expires_at"]) - datetime.fromisoformat(
        issued["created_at"]) == timedelta(days=14)  # the automation setting's default
    # Never again: not in the list, not on revoking.
    for who in (actors.am_east, actors.admin):
        for item in await list_all(client, INVITATIONS, who.headers,
                                   customer_id=customer["id"]):
            assert "token" not in item and "link" not in item
            assert token not in str(item)
    [row] = await rows(app, survey_invitations, id=UUID(issued["id"]))
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert await _tables_holding(app, token, [survey_invitations, audit_log, outbox,
                                              customer_timeline]) == []
    assert await _tables_holding(app, row.token_hash, [survey_invitations]) == [
        "survey_invitations"]  # the check above would have found it
    revoked = await client.post(f"{INVITATIONS}/{issued['id']}/revoke",
                                headers=actors.am_east.headers)
    assert revoked.status_code == 200 and token not in revoked.text


# Automatic invitations ---------------------------------------------------------------


@pytest.fixture
async def team(fresh_app: FastAPI) -> tuple[httpx.AsyncClient, Actors]:
    """An app of its own: the automatic invitations look at every closed change and
    handover in the database, and their setting is global."""
    return await own_team(fresh_app)


async def automate(client: httpx.AsyncClient, actors: Actors, **fields: Any) -> dict[str, Any]:
    current = await client.get(AUTOMATION, headers=actors.admin.headers)
    response = await client.put(AUTOMATION, json=fields, headers={
        **actors.admin.headers, "If-Match": current.headers["etag"]})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def run(client: httpx.AsyncClient, actors: Actors) -> int:
    response = await client.post(AUTOMATIC, headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["invited"]  # type: ignore[no-any-return]


async def invitations_of(client: httpx.AsyncClient, actors: Actors,
                         customer: dict[str, Any]) -> list[dict[str, Any]]:
    return await list_all(client, INVITATIONS, actors.admin.headers, customer_id=customer["id"])


async def test_the_automation_setting_names_existing_templates(
        team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    # Administrators and schedulers (an API key with jobs:run) run the automation.
    assert_problem(await client.post(AUTOMATIC, headers=actors.head_east.headers), 403,
                   "forbidden")
    ran = await client.post(AUTOMATIC, headers=await scheduler(client, actors.admin))
    assert ran.status_code == 200 and ran.json() == {"invited": 0}
    default = await client.get(AUTOMATION, headers=actors.am_east.headers)
    assert default.status_code == 200
    assert {k: v for k, v in default.json().items() if k != "version"} == {
        "change_request_closed_template_id": None, "handover_pulse_template_id": None,
        "expires_in_days": 14}
    etag = default.headers["etag"]
    template = await make_template(client, actors.admin)
    body = {"change_request_closed_template_id": template["id"], "expires_in_days": 30}
    assert_problem(await client.put(AUTOMATION, json=body, headers=actors.admin.headers), 428,
                   "precondition_required")
    assert_problem(await client.put(AUTOMATION, json=body, headers={
        **actors.head_east.headers, "If-Match": etag}), 403, "forbidden")
    unknown = await client.put(AUTOMATION, headers={**actors.admin.headers, "If-Match": etag},
                               json={**body, "handover_pulse_template_id": str(uuid4())})
    assert field_errors(unknown) == {"/template_id": "survey_template_unknown"}
    out_of_range = await client.put(AUTOMATION, json={**body, "expires_in_days": 181},
                                    headers={**actors.admin.headers, "If-Match": etag})
    assert "/expires_in_days" in field_errors(out_of_range)
    stored = await automate(client, actors, **body)
    assert stored["change_request_closed_template_id"] == template["id"]
    assert stored["handover_pulse_template_id"] is None and stored["expires_in_days"] == 30
    again = await client.get(AUTOMATION, headers=actors.am_east.headers)
    assert again.json() == stored and again.headers["etag"] == f'"{stored["version"]}"'
    assert_problem(await client.put(AUTOMATION, json=body, headers={
        **actors.admin.headers, "If-Match": etag}), 412, "precondition_failed")


async def test_a_closed_change_invites_the_primary_contact_once(
        team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    template = await make_template(client, actors.admin)
    with_primary = await make_customer(client, actors.am_east, contacts=[
        contact("赵磊"), contact("钱芳", is_primary=True)])
    without_primary = await make_customer(client, actors.am_east)  # no contact at all
    [primary] = [c for c in with_primary["contacts"] if c["is_primary"]]
    assert primary["name"] == "钱芳"
    closed = await drive(client, actors, "closed", customer=with_primary, cr_type="standard")
    await drive(client, actors, "closed", customer=without_primary, cr_type="standard")
    await drive(client, actors, "implementing", customer=with_primary, cr_type="standard")
    assert await run(client, actors) == 0  # no template set: nothing is sent
    await automate(client, actors, change_request_closed_template_id=template["id"],
                   expires_in_days=10)

    assert await run(client, actors) == 1
    assert await run(client, actors) == 0
    [sent] = await invitations_of(client, actors, with_primary)
    assert sent["contact_id"] == primary["id"]
    assert (sent["trigger"], sent["source_id"], sent["template_id"]) == (
        "change_request_closed", closed["id"], template["id"])
    assert sent["owner_id"] == actors.am_east.id
    assert datetime.fromisoformat(sent["expires_at"]) - datetime.fromisoformat(
        sent["created_at"]) == timedelta(days=10)
    assert await invitations_of(client, actors, without_primary) == []
    # Once the customer has a primary contact, a later run finds its closed change.
    added = await client.post(f"{CUSTOMERS}/{without_primary['id']}/contacts",
                              headers=actors.am_east.headers, json=contact(is_primary=True))
    assert added.status_code == 201, added.text
    assert await run(client, actors) == 1
    [late] = await invitations_of(client, actors, without_primary)
    assert late["contact_id"] == added.json()["id"]
    assert late["trigger"] == "change_request_closed"
    assert await run(client, actors) == 0

    # Archiving the template in use stops the automation (it no longer fails every run);
    # an archived template cannot be set; the waiting change goes out with a live one.
    archived = await client.post(f"{TEMPLATES}/{template['id']}/archive",
                                 headers={**actors.admin.headers, **if_match(template)})
    assert archived.status_code == 200, archived.text
    waiting = await drive(client, actors, "closed", customer=with_primary, cr_type="standard")
    assert await run(client, actors) == 0
    current = await client.get(AUTOMATION, headers=actors.admin.headers)
    refused = await client.put(AUTOMATION, json={"change_request_closed_template_id": template[
        "id"]}, headers={**actors.admin.headers, "If-Match": current.headers["etag"]})
    assert field_errors(refused) == {"/template_id": "survey_template_unknown"}
    replacement = await make_template(client, actors.admin)
    await automate(client, actors, change_request_closed_template_id=replacement["id"])
    assert await run(client, actors) == 1
    newest = {i["source_id"]: i for i in await invitations_of(client, actors, with_primary)}
    assert set(newest) == {closed["id"], waiting["id"]}
    assert newest[waiting["id"]]["template_id"] == replacement["id"]


async def test_a_strict_handover_sends_its_pulse_after_thirty_days_once(
        team: tuple[httpx.AsyncClient, Actors], clock: TestClock) -> None:
    client, actors = team
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    template = await make_template(client, actors.admin)
    await automate(client, actors, handover_pulse_template_id=template["id"])
    customer = await customer_of_tier(client, giver, "A")
    handover = await start(client, head, customer, taker)
    assert handover["level"] == "strict"
    h = await prepare(client, actors, handover, customer, giver, taker)
    for who in (giver, taker, head):
        h = await ok(client, who, h, "/sign")
    assert h["state"] == "transferred"
    assert await run(client, actors) == 0  # not yet due
    shift = timedelta(days=31).total_seconds()
    clock.advance(seconds=shift)
    try:
        assert await run(client, actors) == 1
        assert await run(client, actors) == 0
    finally:
        clock.advance(seconds=-shift)
    [pulse] = await invitations_of(client, actors, customer)
    assert (pulse["trigger"], pulse["source_id"], pulse["contact_id"]) == (
        "handover_pulse", h["id"], customer["contacts"][0]["id"])
    assert pulse["owner_id"] == taker.id  # the receiving manager's by then


async def test_a_retried_invitation_does_not_keep_its_token_in_the_replay_store(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    key = str(uuid4())
    response = await client.post(INVITATIONS, headers={
        **actors.am_east.headers, "Idempotency-Key": key}, json={
        "template_id": template["id"], "customer_id": customer["id"],
        "contact_id": customer["contacts"][0]["id"]})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    # A response that shows a secret once is never kept for a replay: the key is ignored
    # and a retry sends another invitation (the unused one can be revoked).
    assert await rows(app, idempotency_keys, key=key) == []
    again = await client.post(INVITATIONS, headers={
        **actors.am_east.headers, "Idempotency-Key": key}, json={
        "template_id": template["id"], "customer_id": customer["id"],
        "contact_id": customer["contacts"][0]["id"]})
    assert again.status_code == 201 and again.json()["id"] != response.json()["id"]
    assert again.json()["token"] != response.json()["token"]
