"""The audit log through the API: every write leaves an entry saying who did what, where and
when; the hash chain lets an auditor detect an altered, a removed or a truncated entry; and
the service has no code path that changes an entry.

Tampering tests corrupt a database of their own (``fresh_app``), never the shared one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from app.repositories.tables import audit_log
from tests.conftest import Database, client_for
from tests.db import row_count, tamper
from tests.support import (
    Actor,
    Actors,
    TestClock,
    admin_and_auditor,
    assert_problem,
    audit_entries,
    list_all,
    unique,
    verify_chain,
)

ENTRIES = "/api/v1/audit/entries"
VERIFY = "/api/v1/audit/verify"
APP_SOURCE = Path(__file__).resolve().parents[2] / "app"
UNANCHORED = {"checkpoints_checked": 0, "anchored_seq": None}  # no checkpoint key in tests


# an intact log -----------------------------------------------------------------------

async def test_verify_covers_every_entry_of_an_intact_chain(app: FastAPI, client: httpx.AsyncClient,
                                                            actors: Actors) -> None:
    created = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                json={"name": unique("审计部")})
    assert created.status_code == 201, created.text
    count = await row_count(app, audit_log)

    body = await verify_chain(client, actors.auditor)

    assert body == {"intact": True, "entries_checked": count, "last_seq": count, "breaks": [],
                    **UNANCHORED}
    seqs = [e["seq"] for e in await list_all(client, ENTRIES, actors.auditor.headers)]
    assert seqs == list(range(1, count + 1))


async def test_entries_are_paged_by_seq_both_ways(client: httpx.AsyncClient,
                                                  actors: Actors) -> None:
    headers = actors.auditor.headers
    first = (await client.get(ENTRIES, headers=headers, params={"limit": 3})).json()
    second = (await client.get(ENTRIES, headers=headers,
                               params={"limit": 3, "cursor": first["next_cursor"]})).json()
    seqs = [e["seq"] for e in first["data"] + second["data"]]
    assert seqs == list(range(1, 7))
    newest = (await client.get(ENTRIES, headers=headers,
                               params={"limit": 3, "sort": "-seq"})).json()
    older = (await client.get(ENTRIES, headers=headers, params={
        "limit": 3, "sort": "-seq", "cursor": newest["next_cursor"]})).json()
    head = (await verify_chain(client, actors.auditor))["last_seq"]
    assert [e["seq"] for e in newest["data"] + older["data"]] == list(range(head, head - 6, -1))

    wrong_sort = await client.get(ENTRIES, headers=headers,
                                  params={"cursor": first["next_cursor"], "sort": "-seq"})
    assert_problem(wrong_sort, 400, "invalid_cursor")
    later_position = second["next_cursor"].split(".")[0]
    first_signature = first["next_cursor"].split(".")[1]
    forged = await client.get(ENTRIES, headers=headers,
                              params={"cursor": f"{later_position}.{first_signature}"})
    assert_problem(forged, 400, "invalid_cursor")


async def test_an_entry_records_who_what_where_and_when(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    name, renamed, request_id = unique("审计部"), unique("合规部"), unique("req")
    async with client_for(app, "203.0.113.7") as remote:
        created = await remote.post("/api/v1/departments", json={"name": name},
                                    headers={**actors.admin.headers, "X-Request-ID": request_id})
        assert created.status_code == 201, created.text
        department = created.json()
        patched = await remote.patch(
            f"/api/v1/departments/{department['id']}", json={"name": renamed},
            headers={**actors.admin.headers, "If-Match": created.headers["etag"]})
        assert patched.status_code == 200, patched.text

    creation, change = await audit_entries(client, actors.auditor, "department", department["id"])

    assert creation["actor_id"] == actors.admin.id
    assert creation["actor_roles"] == ["admin"]
    assert creation["action"] == "department.created"
    assert (creation["entity_type"], creation["entity_id"]) == ("department", department["id"])
    assert creation["before"] is None
    assert creation["after"]["name"] == name
    assert creation["request_id"] == request_id
    assert creation["client_addr"] == "203.0.113.7"
    assert creation["occurred_at"].endswith("Z")
    when = datetime.fromisoformat(creation["occurred_at"])
    assert abs(when - clock.now()) < timedelta(minutes=1)
    assert change["action"] == "department.updated"
    assert (change["before"]["name"], change["after"]["name"]) == (name, renamed)
    assert change["request_id"] == patched.headers["x-request-id"] != request_id
    assert change["seq"] > creation["seq"]
    assert change["prev_hash"] != change["hash"]


# who may read and verify ---------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "analyst", "department_head", "account_manager",
                                  "finance", "executive"])
async def test_only_an_auditor_may_verify(app: FastAPI, client: httpx.AsyncClient,
                                          actors: Actors, role: str) -> None:
    before = await row_count(app, audit_log)
    response = await client.get(VERIFY, headers=actors.by_role()[role].headers)
    body = assert_problem(response, 403, "forbidden")
    assert "breaks" not in body and "intact" not in body
    # the refusal itself is the one entry added (tests/api/test_denials_audited.py)
    assert await row_count(app, audit_log) == before + 1


async def test_verify_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(VERIFY), 401, "not_authenticated")


async def test_an_analyst_may_not_read_entries(client: httpx.AsyncClient,
                                               actors: Actors) -> None:
    body = assert_problem(await client.get(ENTRIES, headers=actors.analyst.headers), 403,
                          "forbidden")
    assert "data" not in body


# tampering (each on its own database) ---------------------------------------------------

async def _seeded(client: httpx.AsyncClient, app: FastAPI) -> tuple[Actor, Actor, int]:
    """An admin, an auditor and a few writes on the fresh database; the newest seq."""
    admin, auditor = await admin_and_auditor(client, app)
    for _ in range(3):
        created = await client.post("/api/v1/departments", headers=admin.headers,
                                    json={"name": unique("部门")})
        assert created.status_code == 201, created.text
    body = await verify_chain(client, auditor)
    assert body["intact"] is True and body["entries_checked"] == body["last_seq"] >= 8
    return admin, auditor, body["last_seq"]


async def test_an_altered_entry_is_reported_at_its_seq(fresh_app: FastAPI,
                                                       fresh_database: Database) -> None:
    async with client_for(fresh_app) as client:
        admin, auditor, last = await _seeded(client, fresh_app)
        k = last // 2
        await tamper(fresh_database.url, update(audit_log).where(audit_log.c.seq == k)
                     .values(after={"name": "forged"}))

        body = await verify_chain(client, auditor)
        assert body == {"intact": False, "entries_checked": last, "last_seq": last,
                        "breaks": [{"seq": k, "problem": "altered"}], **UNANCHORED}

        # Later writes chain onto the recorded head; they do not hide the alteration.
        created = await client.post("/api/v1/departments", headers=admin.headers,
                                    json={"name": unique("部门")})
        assert created.status_code == 201, created.text
        later = await verify_chain(client, auditor)
        assert later["last_seq"] == last + 1
        assert later["breaks"] == [{"seq": k, "problem": "altered"}]


async def test_a_removed_middle_entry_breaks_the_link_after_it(fresh_app: FastAPI,
                                                               fresh_database: Database) -> None:
    async with client_for(fresh_app) as client:
        _, auditor, last = await _seeded(client, fresh_app)
        k = last // 2
        await tamper(fresh_database.url, delete(audit_log).where(audit_log.c.seq == k))

        body = await verify_chain(client, auditor)

        assert body == {"intact": False, "entries_checked": last - 1, "last_seq": last,
                        "breaks": [{"seq": k + 1, "problem": "missing_before"}], **UNANCHORED}


async def test_a_removed_newest_entry_is_caught_by_the_head(fresh_app: FastAPI,
                                                            fresh_database: Database) -> None:
    async with client_for(fresh_app) as client:
        admin, auditor, last = await _seeded(client, fresh_app)
        await tamper(fresh_database.url, delete(audit_log).where(audit_log.c.seq == last))

        body = await verify_chain(client, auditor)
        assert body == {"intact": False, "entries_checked": last - 1, "last_seq": last - 1,
                        "breaks": [{"seq": last, "problem": "head_mismatch"}], **UNANCHORED}

        # The next write continues from the recorded head, so the gap stays visible.
        created = await client.post("/api/v1/departments", headers=admin.headers,
                                    json={"name": unique("部门")})
        assert created.status_code == 201, created.text
        later = await verify_chain(client, auditor)
        assert later == {"intact": False, "entries_checked": last, "last_seq": last + 1,
                         "breaks": [{"seq": last + 1, "problem": "missing_before"}],
                         **UNANCHORED}


# append-only by construction -------------------------------------------------------------

CHANGES_AUDIT_ROWS = re.compile(
    r"\b(update|delete)\(\s*(\w+\.)?audit_log\b"    # SQLAlchemy Core update()/delete()
    r"|\baudit_log\s*\.\s*(update|delete)\("       # Table.update() / Table.delete()
    r"|\bUPDATE\s+audit_log\b|\bDELETE\s+FROM\s+audit_log\b|\bTRUNCATE\s+(TABLE\s+)?audit_log\b",
    re.IGNORECASE)


def test_no_code_path_updates_or_deletes_audit_entries() -> None:
    for sample in ("update(audit_log)", "sa.delete(\n    audit_log)", "audit_log.update()",
                   "DELETE FROM audit_log", "update audit_log set", "TRUNCATE audit_log",
                   "sa.update(tables.audit_log)"):
        assert CHANGES_AUDIT_ROWS.search(sample), sample  # the scan can see what it looks for
    assert not CHANGES_AUDIT_ROWS.search("update(audit_head)")

    sources = sorted(APP_SOURCE.rglob("*.py"))
    assert len(sources) > 20 and APP_SOURCE / "repositories" / "audit.py" in sources
    offenders = []
    for path in sources:
        source = path.read_text("utf-8")
        for hit in CHANGES_AUDIT_ROWS.finditer(source):
            line = source.count("\n", 0, hit.start()) + 1
            offenders.append(f"{path.relative_to(APP_SOURCE.parent)}:{line}: {hit.group()}")
    assert offenders == []


# what an entry holds -------------------------------------------------------------------

async def test_an_approval_records_its_data_as_json_with_no_deputy_as_null(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """One serialisation rule for every recorded change: an approval by the approver
    themselves stores ``on_behalf_of`` as JSON null (not the text "None"), the step's
    position as a number, and the event on the timeline says the same."""
    from tests.change_request_support import decide, drive, events_of

    cr = await drive(client, actors, "awaiting_approval")
    step = cr["approval_steps"][0]
    decided = await decide(client, actors.head_east, cr, step)
    assert decided.status_code == 200, decided.text

    entries = await audit_entries(client, actors.auditor, "change_request", cr["id"])
    approval = next(e for e in entries if e["action"].startswith("change_request.approv"))
    assert approval["after"]["on_behalf_of"] is None
    assert approval["after"]["step"] == step["position"]
    assert approval["after"]["role"] == "department_head"
    assert '"None"' not in json.dumps([e["after"] for e in entries])
    assert (await events_of(client, actors.auditor, cr))[-1] == approval["action"]
