"""风险管理 (domain §7) through the API on both engines: the register's levels come from the
risk matrix, its scope is the department (writes: your own risks, the head's department,
the admin's all), its status moves only along the table, the heat map counts exactly, and
an administrator's new matrix re-rates every risk (tests that change the global matrix run
on an app and database of their own)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_risks import risks
from tests.conftest import client_for
from tests.customer_support import if_match, make_customer
from tests.db import row_count
from tests.risk_support import RISKS, make_risk
from tests.support import (
    Actor,
    Actors,
    actor,
    admin_and_auditor,
    assert_problem,
    audit_entries,
    field_errors,
    list_all,
    unique,
)

HEATMAP = "/api/v1/risks/heatmap"
MATRIX = "/api/v1/settings/risk-matrix"
EDITORS = ["admin", "department_head", "account_manager", "project_manager", "tech_expert"]
READ_ONLY = ["analyst", "executive", "auditor", "finance"]
# The status table of domain §7, stated independently of the code under test.
ALLOWED = {"open": {"mitigating", "closed"}, "mitigating": {"open", "closed"},
           "closed": {"open"}}
STATUS_EVENT = {"open": "risk.reopened", "mitigating": "risk.mitigating",
                "closed": "risk.closed"}


def band(likelihood: int, impact: int) -> str:
    """Default matrix by product: ≤ 4 low, 5–9 medium, 10–16 high, ≥ 20 critical."""
    product = likelihood * impact
    return ("low" if product <= 4 else "medium" if product <= 9
            else "high" if product <= 16 else "critical")


DEFAULT_CELLS = [[band(lk, im) for im in range(1, 6)] for lk in range(1, 6)]


async def read_risk(client: httpx.AsyncClient, who: Actor, risk_id: str) -> dict[str, Any]:
    response = await client.get(f"{RISKS}/{risk_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()  # type: ignore[no-any-return]


async def move(client: httpx.AsyncClient, who: Actor, risk: dict[str, Any], status: str,
               **headers: str) -> httpx.Response:
    return await client.post(f"{RISKS}/{risk['id']}/status", json={"status": status},
                             headers={**who.headers, **if_match(risk), **headers})


async def listed_ids(client: httpx.AsyncClient, who: Actor, **params: str) -> set[str]:
    return {r["id"] for r in await list_all(client, RISKS, who.headers, **params)}


async def department(client: httpx.AsyncClient, admin: Actor) -> str:
    response = await client.post("/api/v1/departments", headers=admin.headers,
                                 json={"name": unique("风险测试部")})
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


# 1. create ------------------------------------------------------------------------------

@pytest.mark.parametrize(("likelihood", "impact", "level"), [
    (1, 1, "low"), (1, 4, "low"), (2, 2, "low"), (1, 5, "medium"), (3, 3, "medium"),
    (2, 5, "high"), (4, 4, "high"), (4, 5, "critical"), (5, 5, "critical")])
async def test_the_level_comes_from_the_default_matrix(
        client: httpx.AsyncClient, actors: Actors, likelihood: int, impact: int,
        level: str) -> None:
    risk = await make_risk(client, actors.am_east, likelihood=likelihood, impact=impact)
    assert (risk["likelihood"], risk["impact"], risk["level"]) == (likelihood, impact, level)
    assert (await read_risk(client, actors.am_east, risk["id"]))["level"] == level


async def test_every_field_round_trips_and_the_owner_defaults_to_the_caller(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    body = {"title": "关键客户项目延期风险", "description": "二期上线可能推迟",
            "customer_id": customer["id"], "likelihood": 4, "impact": 4,
            "mitigation": "每周与客户项目经理对齐里程碑",
            "contingency_plan": "应急预案：启用备用实施团队",
            "early_warning": "连续两周里程碑滑期", "next_review_date": "2026-12-15"}

    response = await client.post(RISKS, headers=am.headers, json=body)

    assert response.status_code == 201, response.text
    risk = response.json()
    assert response.headers["location"] == f"{RISKS}/{risk['id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: risk[k] for k in body} == body
    assert risk | {"id": None, "created_at": None, "updated_at": None} == {
        **body, "id": None, "created_at": None, "updated_at": None, "level": "high",
        "owner_id": am.id, "department_id": actors.east, "status": "open",
        "allowed_statuses": ["closed", "mitigating"], "version": 1, "closed_at": None,
        "change_request_id": None, "handover_id": None, "plan_id": None}
    assert risk["created_at"] == risk["updated_at"] and risk["created_at"].endswith("Z")
    assert await read_risk(client, am, risk["id"]) == risk
    assert risk["id"] in await listed_ids(client, am, customer_id=customer["id"])


async def test_the_department_follows_the_owner(client: httpx.AsyncClient,
                                                actors: Actors) -> None:
    risk = await make_risk(client, actors.admin, owner_id=actors.am_west.id)
    assert (risk["owner_id"], risk["department_id"]) == (actors.am_west.id, actors.west)
    head_made = await make_risk(client, actors.head_east, owner_id=actors.am_east2.id)
    assert (head_made["owner_id"], head_made["department_id"]) == (actors.am_east2.id,
                                                                   actors.east)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("likelihood", 0, "greater_than_equal"), ("likelihood", 6, "less_than_equal"),
    ("impact", 0, "greater_than_equal"), ("impact", 6, "less_than_equal"),
    ("likelihood", "high", "int_parsing"), ("title", "", "string_too_short")])
async def test_out_of_scale_input_is_refused_with_a_pointer(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, field: str, value: object,
        reason: str) -> None:
    title = unique("风险")
    response = await client.post(RISKS, headers=actors.am_east.headers, json={
        "title": title, "likelihood": 3, "impact": 3, field: value})
    assert field_errors(response) == {f"/{field}": reason}
    assert await row_count(app, risks, title=title) == 0


def refusals(actors: Actors,
             customers: dict[str, str]) -> list[tuple[Actor, dict[str, Any], str, str]]:
    """(caller, fields, pointer, reason) for owners and customers outside the caller's reach."""
    return [
        (actors.am_east, {"owner_id": str(uuid.uuid4())}, "/owner_id", "owner_unknown"),
        (actors.am_east, {"owner_id": actors.am_east2.id}, "/owner_id", "owner_outside_scope"),
        (actors.head_east, {"owner_id": actors.am_west.id}, "/owner_id",
         "owner_outside_scope"),
        (actors.am_east, {"customer_id": customers["west"]}, "/customer_id",
         "customer_unknown"),
        (actors.am_east, {"customer_id": customers["colleague"]}, "/customer_id",
         "customer_unknown"),
        (actors.am_east, {"customer_id": str(uuid.uuid4())}, "/customer_id",
         "customer_unknown"),
    ]


async def test_owners_and_customers_outside_the_callers_reach_are_refused(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    customers = {"west": (await make_customer(client, actors.am_west))["id"],
                 "colleague": (await make_customer(client, actors.am_east2))["id"]}
    for who, fields, pointer, reason in refusals(actors, customers):
        title = unique("风险")
        response = await client.post(RISKS, headers=who.headers, json={
            "title": title, "likelihood": 2, "impact": 3, **fields})
        assert field_errors(response) == {pointer: reason}, fields
        assert await row_count(app, risks, title=title) == 0


# 2. roles -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", EDITORS)
async def test_every_editor_role_registers_risks(client: httpx.AsyncClient, actors: Actors,
                                                 role: str) -> None:
    who = actors.by_role()[role]
    risk = await make_risk(client, who)
    assert (risk["owner_id"], risk["department_id"]) == (who.id, who.department_id)


@pytest.mark.parametrize("role", READ_ONLY)
async def test_read_only_roles_read_but_never_write(client: httpx.AsyncClient, app: FastAPI,
                                                   actors: Actors, role: str) -> None:
    who = actors.by_role()[role]
    risk = await make_risk(client, actors.admin, owner_id=actors.am_east.id)
    title = unique("风险")

    assert_problem(await client.post(RISKS, headers=who.headers, json={
        "title": title, "likelihood": 1, "impact": 1}), 403, "forbidden")
    assert_problem(await client.patch(f"{RISKS}/{risk['id']}", json={"title": "改"},
                                      headers={**who.headers, **if_match(risk)}),
                   403, "forbidden")
    assert_problem(await move(client, who, risk, "closed"), 403, "forbidden")

    assert await row_count(app, risks, title=title) == 0
    assert await read_risk(client, actors.admin, risk["id"]) == risk
    assert (await client.get(HEATMAP, headers=who.headers)).status_code == 200


async def test_anonymous_callers_get_401(client: httpx.AsyncClient, actors: Actors) -> None:
    risk = await make_risk(client, actors.am_east)
    for method, path in [("POST", RISKS), ("GET", RISKS), ("GET", HEATMAP), ("GET", MATRIX),
                         ("PUT", MATRIX), ("GET", f"{RISKS}/{risk['id']}"),
                         ("PATCH", f"{RISKS}/{risk['id']}"),
                         ("POST", f"{RISKS}/{risk['id']}/status")]:
        response = await client.request(method, path, json={})
        assert_problem(response, 401, "not_authenticated")
    assert await read_risk(client, actors.am_east, risk["id"]) == risk


# 3. scope -------------------------------------------------------------------------------

async def test_a_department_shares_its_risks_and_hides_them_from_others(
        client: httpx.AsyncClient, actors: Actors) -> None:
    risk = await make_risk(client, actors.am_east)
    same_department = [actors.am_east2, actors.pm, actors.tech, actors.finance, actors.head_east]
    across = [actors.admin, actors.executive, actors.analyst, actors.auditor]
    for who in same_department + across:
        seen = await read_risk(client, who, risk["id"])
        assert seen | {"allowed_statuses": None} == risk | {"allowed_statuses": None}, \
            who.username
        assert risk["id"] in await listed_ids(client, who, owner_id=actors.am_east.id)
    for who in (actors.am_west, actors.head_west):
        assert_problem(await client.get(f"{RISKS}/{risk['id']}", headers=who.headers),
                       404, "not_found")
        assert await listed_ids(client, who, department_id=actors.east) == set()
        assert risk["id"] not in await listed_ids(client, who)


async def test_writes_reach_own_risks_the_heads_department_and_the_admins_all(
        client: httpx.AsyncClient, actors: Actors) -> None:
    risk = await make_risk(client, actors.am_east, title="原标题")
    for who in (actors.pm, actors.am_east2, actors.head_west, actors.am_west):
        response = await client.patch(f"{RISKS}/{risk['id']}", json={"title": "越权"},
                                      headers={**who.headers, **if_match(risk)})
        assert_problem(response, 404, "not_found")
        assert_problem(await move(client, who, risk, "mitigating"), 404, "not_found")
    assert await read_risk(client, actors.am_east, risk["id"]) == risk

    for who in (actors.am_east, actors.head_east, actors.admin):
        response = await client.patch(f"{RISKS}/{risk['id']}", json={"title": who.username},
                                      headers={**who.headers, **if_match(risk)})
        assert response.status_code == 200, response.text
        risk = response.json()
        assert risk["title"] == who.username
    assert (await read_risk(client, actors.pm, risk["id"]))["version"] == 4


@pytest.mark.parametrize("owner", ["self", "colleague"])
@pytest.mark.parametrize("role", EDITORS + READ_ONLY)
async def test_the_offered_statuses_are_exactly_the_moves_the_caller_may_make(
        client: httpx.AsyncClient, actors: Actors, role: str, owner: str) -> None:
    """For every role, on a risk of its own and one of a colleague in its department: each
    offered status is a move that succeeds, each other one is refused, and the risk can
    be changed at all exactly when something is offered."""
    who = actors.by_role()[role]
    colleague = actors.am_east2 if who is not actors.am_east2 else actors.am_east
    owner_id = who.id if owner == "self" else colleague.id
    for target in ALLOWED:
        risk = await make_risk(client, actors.admin, owner_id=owner_id)
        seen = await read_risk(client, who, risk["id"])
        offered = set(seen["allowed_statuses"])
        listed = [r for r in await list_all(client, RISKS, who.headers, owner_id=owner_id)
                  if r["id"] == risk["id"]]
        assert [r["allowed_statuses"] for r in listed] == [seen["allowed_statuses"]]
        assert offered <= ALLOWED["open"]

        response = await move(client, who, seen, target)

        if target in offered:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code in (403, 404, 409), response.text
            assert await read_risk(client, actors.admin, risk["id"]) == risk
    risk = await make_risk(client, actors.admin, owner_id=owner_id)
    response = await client.patch(f"{RISKS}/{risk['id']}", json={"title": "改"},
                                  headers={**who.headers, **if_match(risk)})
    assert (response.status_code == 200) == bool(offered), response.text


async def test_a_patch_cannot_reach_an_owner_or_customer_outside_the_writers_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    risk = await make_risk(client, actors.am_east)
    for who, owner in ((actors.am_east, actors.am_east2), (actors.head_east, actors.am_west)):
        response = await client.patch(f"{RISKS}/{risk['id']}", json={"owner_id": owner.id},
                                      headers={**who.headers, **if_match(risk)})
        assert field_errors(response) == {"/owner_id": "owner_outside_scope"}
    foreign = await make_customer(client, actors.am_west)
    response = await client.patch(f"{RISKS}/{risk['id']}", json={"customer_id": foreign["id"]},
                                  headers={**actors.am_east.headers, **if_match(risk)})
    assert field_errors(response) == {"/customer_id": "customer_unknown"}
    assert await read_risk(client, actors.am_east, risk["id"]) == risk

    response = await client.patch(f"{RISKS}/{risk['id']}", json={"owner_id": actors.pm.id},
                                  headers={**actors.head_east.headers, **if_match(risk)})
    assert response.status_code == 200, response.text
    assert (response.json()["owner_id"], response.json()["department_id"]) == (
        actors.pm.id, actors.east)


# 4. patch -------------------------------------------------------------------------------

async def test_a_patch_changes_only_what_it_sends_and_re_rates(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    risk = await make_risk(client, am, mitigation="周会", early_warning="滑期",
                           next_review_date="2026-10-01")
    assert risk["level"] == "low"

    response = await client.patch(f"{RISKS}/{risk['id']}", json={"likelihood": 5},
                                  headers={**am.headers, **if_match(risk)})

    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["etag"] == '"2"'
    assert changed == risk | {"likelihood": 5, "level": "high", "version": 2,
                              "updated_at": changed["updated_at"]}
    assert changed["updated_at"] >= risk["updated_at"]

    response = await client.patch(f"{RISKS}/{risk['id']}",
                                  json={"impact": 1, "contingency_plan": "应急预案 B"},
                                  headers={**am.headers, **if_match(changed)})
    assert response.json() == changed | {"impact": 1, "level": "medium", "version": 3,
                                         "contingency_plan": "应急预案 B",
                                         "updated_at": response.json()["updated_at"]}
    assert await read_risk(client, am, risk["id"]) == response.json()


async def test_a_patch_needs_a_current_if_match(client: httpx.AsyncClient,
                                                actors: Actors) -> None:
    am = actors.am_east
    risk = await make_risk(client, am)
    url = f"{RISKS}/{risk['id']}"
    assert_problem(await client.patch(url, json={"title": "新"}, headers=am.headers),
                   428, "precondition_required")
    assert_problem(await client.patch(url, json={"title": "新"},
                                      headers={**am.headers, **if_match(2)}),
                   412, "precondition_failed")
    assert_problem(await move(client, am, {**risk, "version": 7}, "closed"),
                   412, "precondition_failed")
    assert await read_risk(client, am, risk["id"]) == risk


@pytest.mark.parametrize("fields", [
    {"level": "critical"}, {"status": "closed"}, {"version": 9},
    {"department_id": str(uuid.uuid4())}, {"closed_at": "2026-01-01T00:00:00Z"},
    {"created_at": "2026-01-01T00:00:00Z"}, {"allowed_statuses": []}])
async def test_server_owned_fields_are_refused(client: httpx.AsyncClient, actors: Actors,
                                               fields: dict[str, Any]) -> None:
    am = actors.am_east
    risk = await make_risk(client, am)
    response = await client.patch(f"{RISKS}/{risk['id']}", json={"title": "改", **fields},
                                  headers={**am.headers, **if_match(risk)})
    (name,) = fields
    assert field_errors(response) == {f"/{name}": "extra_forbidden"}
    assert await read_risk(client, am, risk["id"]) == risk
    title = unique("风险")
    response = await client.post(RISKS, headers=am.headers, json={
        "title": title, "likelihood": 1, "impact": 1, **fields})
    assert field_errors(response) == {f"/{name}": "extra_forbidden"}
    assert title not in {r["title"] for r in await list_all(client, RISKS, am.headers,
                                                            owner_id=am.id)}


# 5. status ------------------------------------------------------------------------------

async def risk_in(client: httpx.AsyncClient, who: Actor, status: str) -> dict[str, Any]:
    risk = await make_risk(client, who)
    if status != "open":
        response = await move(client, who, risk, status)
        assert response.status_code == 200, response.text
        risk = response.json()
    return risk


@pytest.mark.parametrize(("current", "target"), [
    (c, t) for c in ALLOWED for t in ALLOWED if t in ALLOWED[c]])
async def test_every_allowed_transition_succeeds(client: httpx.AsyncClient, actors: Actors,
                                                 current: str, target: str) -> None:
    am = actors.am_east
    risk = await risk_in(client, am, current)
    assert (risk["status"], sorted(risk["allowed_statuses"])) == (current,
                                                                  sorted(ALLOWED[current]))
    assert (risk["closed_at"] is not None) == (current == "closed")

    response = await move(client, am, risk, target)

    assert response.status_code == 200, response.text
    moved = response.json()
    assert response.headers["etag"] == f'"{risk["version"] + 1}"'
    assert moved == risk | {"status": target, "allowed_statuses": moved["allowed_statuses"],
                            "version": risk["version"] + 1, "closed_at": moved["closed_at"],
                            "updated_at": moved["updated_at"]}
    assert sorted(moved["allowed_statuses"]) == sorted(ALLOWED[target])
    assert (moved["closed_at"] is not None) == (target == "closed")
    assert await read_risk(client, am, risk["id"]) == moved
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "risk",
                                                        risk["id"])]
    assert actions[-1] == STATUS_EVENT[target]


@pytest.mark.parametrize(("current", "target"), [
    (c, t) for c in ALLOWED for t in ALLOWED if t not in ALLOWED[c]])
async def test_every_refused_transition_names_the_allowed_ones(
        client: httpx.AsyncClient, actors: Actors, current: str, target: str) -> None:
    am = actors.am_east
    risk = await risk_in(client, am, current)
    allowed = ", ".join(sorted(ALLOWED[current]))

    body = assert_problem(await move(client, am, risk, target), 409, "risk_status_not_allowed")
    assert body["detail"] == (f"A risk cannot go from {current} to {target}; "
                              f"allowed: {allowed}.")
    body = assert_problem(await move(client, am, risk, target, **{"Accept-Language": "zh-CN"}),
                          409, "risk_status_not_allowed")
    assert body["detail"] == f"风险不能从 {current} 变为 {target}；允许：{allowed}。"
    assert await read_risk(client, am, risk["id"]) == risk


async def test_an_unknown_status_is_a_validation_error(client: httpx.AsyncClient,
                                                       actors: Actors) -> None:
    risk = await make_risk(client, actors.am_east)
    assert field_errors(await move(client, actors.am_east, risk, "resolved")) == {
        "/status": "enum"}
    assert await read_risk(client, actors.am_east, risk["id"]) == risk


# 6. heat map ----------------------------------------------------------------------------

def counts_of(heatmap: dict[str, Any]) -> dict[tuple[int, int], int]:
    cells = heatmap["cells"]
    assert [(c["likelihood"], c["impact"]) for c in cells] == [
        (lk, im) for lk in range(1, 6) for im in range(1, 6)]
    assert heatmap["total"] == sum(c["count"] for c in cells)
    return {(c["likelihood"], c["impact"]): c["count"] for c in cells if c["count"]}


async def heatmap_of(client: httpx.AsyncClient, who: Actor, **params: str) -> dict[str, Any]:
    response = await client.get(HEATMAP, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_heat_map_counts_each_cell_of_the_callers_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    dept = await department(client, actors.admin)
    am, am2 = [await actor(client, actors.admin, dept, ["account_manager"]) for _ in range(2)]
    for who, lk, im, status in [(am, 1, 1, "open"), (am, 1, 1, "open"), (am, 3, 4, "open"),
                                (am2, 3, 4, "mitigating"), (am2, 2, 3, "mitigating"),
                                (am, 5, 5, "closed"), (am2, 5, 5, "closed")]:
        risk = await make_risk(client, who, likelihood=lk, impact=im)
        if status != "open":
            assert (await move(client, who, risk, status)).status_code == 200

    current = await heatmap_of(client, am)
    assert counts_of(current) == {(1, 1): 2, (3, 4): 2, (2, 3): 1}
    assert current["total"] == 5
    assert [c["level"] for c in current["cells"]] == [
        level for row in DEFAULT_CELLS for level in row]
    assert counts_of(await heatmap_of(client, am, status="closed")) == {(5, 5): 2}
    assert counts_of(await heatmap_of(client, am2, status="mitigating")) == {(3, 4): 1,
                                                                            (2, 3): 1}
    assert counts_of(await heatmap_of(client, am, owner_id=am2.id)) == {(3, 4): 1, (2, 3): 1}
    assert counts_of(await heatmap_of(client, am, level="high")) == {(3, 4): 2}
    assert counts_of(await heatmap_of(client, actors.admin, department_id=dept)) == {
        (1, 1): 2, (3, 4): 2, (2, 3): 1}
    assert (await heatmap_of(client, actors.am_west, department_id=dept))["total"] == 0


async def test_list_filters_and_sorts(client: httpx.AsyncClient, actors: Actors) -> None:
    dept = await department(client, actors.admin)
    am = await actor(client, actors.admin, dept, ["account_manager"])
    low = await make_risk(client, am, likelihood=1, impact=1, next_review_date="2026-03-01")
    high = await make_risk(client, am, likelihood=4, impact=4, next_review_date="2026-09-01")
    closed = await risk_in(client, am, "closed")
    critical = await make_risk(client, am, likelihood=5, impact=5)

    by_level = await list_all(client, RISKS, am.headers, limit=1, sort="-level")
    assert [r["level"] for r in by_level] == ["critical", "high", "low", "low"]
    assert await listed_ids(client, am, level="high") == {high["id"]}
    assert await listed_ids(client, am, status="closed") == {closed["id"]}
    assert await listed_ids(client, am, review_due_by="2026-06-30") == {low["id"]}
    by_creation = await list_all(client, RISKS, am.headers, sort="created_at")
    assert [r["id"] for r in by_creation] == [low["id"], high["id"], closed["id"],
                                              critical["id"]]


# 7. risk matrix (global: changed only on an app and database of the test's own) ---------

def raised(cells: list[list[str]], floor: str) -> list[list[str]]:
    """The matrix with every cell below ``floor`` raised to it: still monotone."""
    order = ["low", "medium", "high", "critical"]
    return [[max(c, floor, key=order.index) for c in row] for row in cells]


async def matrix_of(client: httpx.AsyncClient, who: Actor) -> dict[str, Any]:
    response = await client.get(MATRIX, headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()  # type: ignore[no-any-return]


async def test_an_administrators_matrix_re_rates_every_risk(fresh_app: FastAPI) -> None:
    async with client_for(fresh_app) as client:
        admin, auditor = await admin_and_auditor(client, fresh_app)
        head = await actor(client, admin, admin.department_id, ["department_head"])
        assert await matrix_of(client, auditor) == {"cells": DEFAULT_CELLS, "version": 0}
        corner = await make_risk(client, admin, likelihood=1, impact=1)
        top = await make_risk(client, admin, likelihood=5, impact=5)
        custom = raised(DEFAULT_CELLS, "medium")

        for who in (head, auditor):
            assert_problem(await client.put(MATRIX, json={"cells": custom},
                                            headers={**who.headers, **if_match(0)}),
                           403, "forbidden")
        assert_problem(await client.put(MATRIX, json={"cells": custom}, headers=admin.headers),
                       428, "precondition_required")
        assert_problem(await client.put(MATRIX, json={"cells": custom},
                                        headers={**admin.headers, **if_match(1)}),
                       412, "precondition_failed")
        assert await matrix_of(client, admin) == {"cells": DEFAULT_CELLS, "version": 0}

        response = await client.put(MATRIX, json={"cells": custom},
                                    headers={**admin.headers, **if_match(0)})

        assert response.status_code == 200, response.text
        assert response.json() == {"cells": custom, "version": 1}
        assert response.headers["etag"] == '"1"'
        assert await matrix_of(client, head) == {"cells": custom, "version": 1}
        rerated = await read_risk(client, admin, corner["id"])
        assert (rerated["level"], rerated["version"]) == ("medium", 2)
        assert await read_risk(client, admin, top["id"]) == top
        heatmap = await heatmap_of(client, admin)
        assert [c["level"] for c in heatmap["cells"]] == [lv for row in custom for lv in row]
        assert (await make_risk(client, admin, likelihood=2, impact=1))["level"] == "medium"
        assert_problem(await client.put(MATRIX, json={"cells": DEFAULT_CELLS},
                                        headers={**admin.headers, **if_match(0)}),
                       412, "precondition_failed")
        (entry,) = await audit_entries(client, auditor, "policy", "risk_matrix")
        assert (entry["action"], entry["actor_id"]) == ("policy.updated", admin.id)
        assert (entry["before"], entry["after"]) == (None, {"cells": custom})


def with_cells(cells: list[list[str]], *changes: tuple[int, int, str]) -> list[list[str]]:
    copy = [list(row) for row in cells]
    for lk, im, level in changes:
        copy[lk][im] = level
    return copy


# Each bad matrix and the errors it must get: (pointer, reason), sorted.
BAD_MATRICES = [
    (with_cells(DEFAULT_CELLS, (4, 4, "low"), (2, 2, "low")),
     [("/cells/2/2", "matrix_not_monotone")] * 2 + [("/cells/4/4", "matrix_not_monotone")] * 2),
    (with_cells(DEFAULT_CELLS, (0, 0, "medium")),
     [("/cells/0/1", "matrix_not_monotone"), ("/cells/1/0", "matrix_not_monotone")]),
    (DEFAULT_CELLS[:4], [("/cells", "too_short")]),
    ([*DEFAULT_CELLS[:4], [*DEFAULT_CELLS[4], "critical"]], [("/cells/4", "too_long")]),
    (with_cells(DEFAULT_CELLS, (1, 1, "severe")), [("/cells/1/1", "literal_error")]),
]


async def test_a_bad_matrix_is_refused_cell_by_cell_and_nothing_changes(
        fresh_app: FastAPI) -> None:
    async with client_for(fresh_app) as client:
        admin, _ = await admin_and_auditor(client, fresh_app)
        risk = await make_risk(client, admin, likelihood=1, impact=1)
        for cells, errors in BAD_MATRICES:
            response = await client.put(MATRIX, json={"cells": cells},
                                        headers={**admin.headers, **if_match(0)})

            body = assert_problem(response, 422, "validation_failed")
            assert sorted((e["pointer"], e["reason"]) for e in body["errors"]) == errors
            assert await matrix_of(client, admin) == {"cells": DEFAULT_CELLS, "version": 0}
            assert await read_risk(client, admin, risk["id"]) == risk


# 8. audit and timeline -----------------------------------------------------------------

async def test_each_change_is_audited_and_shown_on_the_customers_timeline(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    risk = await make_risk(client, am, title="交付延期", customer_id=customer["id"])
    response = await client.patch(f"{RISKS}/{risk['id']}", json={"title": "交付严重延期",
                                                                 "impact": 5},
                                  headers={**am.headers, **if_match(risk)})
    risk = response.json()
    for status in ("mitigating", "closed", "open"):
        risk = (await move(client, am, risk, status)).json()

    entries = await audit_entries(client, actors.auditor, "risk", risk["id"])
    assert [e["action"] for e in entries] == ["risk.created", "risk.updated", "risk.mitigating",
                                              "risk.closed", "risk.reopened"]
    assert {e["actor_id"] for e in entries} == {am.id}
    created, updated, *moves = entries
    assert created["before"] is None
    assert created["after"] | {"title": "交付延期", "level": "low", "status": "open",
                               "customer_id": customer["id"], "owner_id": am.id} \
        == created["after"]
    assert (updated["before"]["title"], updated["after"]["title"]) == ("交付延期", "交付严重延期")
    assert (updated["before"]["level"], updated["after"]["level"]) == ("low", "high")
    assert [(e["before"]["status"], e["after"]["status"]) for e in moves] == [
        ("open", "mitigating"), ("mitigating", "closed"), ("closed", "open")]

    timeline = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                              am.headers)
    about = [(e["type"], e["data"]["status"]) for e in timeline
             if e["entity_type"] == "risk" and e["entity_id"] == risk["id"]]
    assert about == [("risk.reopened", "open"), ("risk.closed", "closed"),
                     ("risk.mitigating", "mitigating"), ("risk.updated", "open"),
                     ("risk.created", "open")]
