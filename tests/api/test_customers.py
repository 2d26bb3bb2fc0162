"""The customer archive through the API (domain §2): field validation with the standard
libraries (credit code, E.164 phones, e-mail) in both languages, classification and its
policy, the lifecycle table, information integrity, no mass assignment, and the CRUD
conventions (Location/ETag, If-Match, archive/restore, exact round-trips)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import client_for
from tests.customer_support import (
    CUSTOMERS,
    contact,
    credit_code,
    customer_history,
    customer_ids,
    if_match,
    make_customer,
    read_customer,
)
from tests.support import (
    Actor,
    Actors,
    actor,
    admin_and_auditor,
    assert_problem,
    field_errors,
    unique,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def headers(who: Actor, version: int | dict[str, Any]) -> dict[str, str]:
    return {**who.headers, **if_match(version)}


async def refused_in_both_languages(client: httpx.AsyncClient, who: Actor, body: dict[str, Any],
                                    pointer: str, reason: str) -> None:
    """POST /customers is a 422 naming ``pointer`` with ``reason``, worded in English and in
    Chinese by Accept-Language, and nothing was created."""
    details = {}
    for language in ("en", "zh-CN"):
        response = await client.post(CUSTOMERS, json=body,
                                     headers={**who.headers, "Accept-Language": language})
        assert field_errors(response) == {pointer: reason}
        (error,) = response.json()["errors"]
        details[language] = error["detail"]
    assert details["en"] != details["zh-CN"] and details["en"].isascii()
    assert CJK.search(details["zh-CN"]), details
    assert await customer_ids(client, who, q=body["name"]) == set()


# 1. validators ---------------------------------------------------------------------------

async def test_a_valid_credit_code_is_stored_in_its_compact_form(
        client: httpx.AsyncClient, actors: Actors) -> None:
    code = credit_code()
    written = f"{code[:2]} {code[2:8]}-{code[8:]}".lower()
    customer = await make_customer(client, actors.am_east, credit_code=written)
    assert customer["credit_code"] == code
    assert (await read_customer(client, actors.admin, customer["id"]))["credit_code"] == code


async def test_a_credit_code_whose_check_character_is_0_is_valid(
        client: httpx.AsyncClient, actors: Actors) -> None:
    code = credit_code(check="0")
    customer = await make_customer(client, actors.am_east, credit_code=code)
    assert customer["credit_code"] == code and code.endswith("0")


def _wrong_check(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


@pytest.mark.parametrize(("mangle", "reason"), [
    (_wrong_check, "credit_code_checksum"),
    (lambda c: c[:-1], "credit_code_format"),  # 17 characters
    (lambda c: c + "0", "credit_code_format"),  # 19 characters
    (lambda c: c[:9] + "I" + c[10:], "credit_code_format"),  # I is not in the alphabet
    (lambda c: "A" + c[1:], "credit_code_format"),  # the first 8 are digits
], ids=["check", "short", "long", "letter-I", "letter-in-digits"])
async def test_an_invalid_credit_code_is_422_with_its_reason(
        client: httpx.AsyncClient, actors: Actors, mangle: Any, reason: str) -> None:
    body = {"name": unique("信用代码错误"), "credit_code": mangle(credit_code())}
    await refused_in_both_languages(client, actors.am_east, body, "/credit_code", reason)


async def test_a_credit_code_on_an_individual_is_422(
        client: httpx.AsyncClient, actors: Actors) -> None:
    body = {"name": unique("个人客户"), "kind": "individual", "credit_code": credit_code()}
    await refused_in_both_languages(client, actors.am_east, body, "/credit_code",
                                    "credit_code_companies_only")


async def test_mobile_and_fixed_line_numbers_are_stored_in_e164(
        client: httpx.AsyncClient, actors: Actors) -> None:
    written = ["138 0013 8000", "010-12345678", "021 6888 8888", "+86 (138) 0013-8000"]
    stored = ["+8613800138000", "+861012345678", "+862168888888", "+8613800138000"]
    # these well-known numbers may already be taken by other tests' customers: say why
    customer = await make_customer(client, actors.am_east, force_reason="号码规范化测试",
                                   contacts=[contact(phones=[{"number": n} for n in written])])
    try:
        (person,) = customer["contacts"]
        assert [p["number"] for p in person["phones"]] == stored
        again = await read_customer(client, actors.admin, customer["id"])
        assert [p["number"] for p in again["contacts"][0]["phones"]] == stored
    finally:  # archived customers no longer hold their numbers for duplicate checks
        response = await client.post(f"{CUSTOMERS}/{customer['id']}/archive",
                                     headers=headers(actors.am_east, customer))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("person", "pointer", "reason"), [
    ({"name": "王伟", "phones": [{"number": "12345"}]}, "/contacts/0/phones/0",
     "phone_invalid"),
    ({"name": "王伟", "phones": [{"number": "电话号码"}]}, "/contacts/0/phones/0",
     "phone_invalid"),
    ({"name": "王伟", "emails": [{"address": "wang.wei@@example"}]}, "/contacts/0/emails/0",
     "email_invalid"),
    ({"name": "王伟", "emails": [{"address": "no-at-sign.example.cn"}]},
     "/contacts/0/emails/0", "email_invalid"),
], ids=["short-phone", "text-phone", "double-at", "no-at"])
async def test_an_invalid_phone_or_email_is_422_naming_it(
        client: httpx.AsyncClient, actors: Actors, person: dict[str, Any], pointer: str,
        reason: str) -> None:
    body = {"name": unique("联系方式错误"), "contacts": [person]}
    await refused_in_both_languages(client, actors.am_east, body, pointer, reason)


# 2. classification -----------------------------------------------------------------------

# Default policy: score = 100 × (0.5 × revenue/5,000,000 capped at 1 + 0.3 × (importance−1)/4
# + 0.2 × (growth−1)/4); A ≥ 75 > B ≥ 50 > C ≥ 25 > D.
LOW = {"annual_revenue": "0.00", "strategic_importance": 3, "growth_potential": 3}  # 25.0: C
HIGH = {"annual_revenue": "4000000.00", "strategic_importance": 5,
        "growth_potential": 4}  # 40 + 30 + 15 = 85.0: A


def tier(customer: dict[str, Any]) -> tuple[str, str, str | None, str]:
    t = customer["tier"]
    return t["effective"], t["computed"], t["manual"], str(t["value_score"])


async def test_the_tier_is_recomputed_when_its_inputs_change(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, **LOW)
    assert tier(customer) == ("C", "C", None, "25.0")
    response = await client.patch(f"{CUSTOMERS}/{customer['id']}", json=HIGH,
                                  headers=headers(am, customer))
    assert response.status_code == 200, response.text
    raised = response.json()
    assert tier(raised) == ("A", "A", None, "85.0") and raised["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert tier(await read_customer(client, actors.admin, customer["id"])) == tier(raised)
    assert customer["id"] in await customer_ids(client, am, tier="A", q=customer["name"])

    response = await client.patch(f"{CUSTOMERS}/{customer['id']}", json=LOW,
                                  headers=headers(am, raised))
    assert response.status_code == 200, response.text
    assert tier(response.json()) == ("C", "C", None, "25.0")
    assert tier(await read_customer(client, actors.admin, customer["id"])) == ("C", "C", None,
                                                                              "25.0")
    assert customer["id"] not in await customer_ids(client, am, tier="A", q=customer["name"])


async def test_a_manual_tier_needs_a_reason_and_keeps_the_computed_one_visible(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, **LOW)
    path = f"{CUSTOMERS}/{customer['id']}/tier-override"

    for body in ({"tier": "A"}, {"tier": "A", "reason": "   "}):
        response = await client.put(path, json=body, headers=headers(am, customer))
        assert field_errors(response) == {"/reason": "missing"}
    assert await read_customer(client, actors.admin, customer["id"]) == customer

    reason = "集团战略合作伙伴，总部指定"
    response = await client.put(path, json={"tier": "A", "reason": reason},
                                headers=headers(am, customer))
    assert response.status_code == 200, response.text
    manual = response.json()
    assert tier(manual) == ("A", "C", "A", "25.0")
    assert manual["tier"]["manual_reason"] == reason and manual["version"] == 2

    # the inputs still drive the computed tier; the manual one still wins
    response = await client.patch(f"{CUSTOMERS}/{customer['id']}",
                                  json={"strategic_importance": 1},
                                  headers=headers(am, manual))
    assert response.status_code == 200, response.text
    assert tier(response.json()) == ("A", "D", "A", "10.0")

    response = await client.put(path, json={"tier": None}, headers=headers(am, response.json()))
    assert response.status_code == 200, response.text
    cleared = await read_customer(client, actors.admin, customer["id"])
    assert tier(cleared) == ("D", "D", None, "10.0")
    assert cleared["tier"]["manual_reason"] is None
    history = await customer_history(client, am, customer["id"])
    manual_changes = [(h["field"], h["old"], h["new"]) for h in history
                      if h["field"].startswith("tier_manual")]
    assert sorted(manual_changes, key=str) == sorted([
        ("tier_manual", "A", None), ("tier_manual_reason", reason, None),
        ("tier_manual", None, "A"), ("tier_manual_reason", None, reason)], key=str)


POLICY = "/api/v1/settings/customer-tier-policy"
DEFAULT_POLICY = {"revenue_full_at": "5000000", "weight_revenue": "0.5",
                  "weight_strategic": "0.3", "weight_growth": "0.2", "threshold_a": "75",
                  "threshold_b": "50", "threshold_c": "25"}


def policy_of(body: dict[str, Any]) -> dict[str, str]:
    return {k: format(float(v), "g") for k, v in body.items() if k != "version"}


async def test_an_admin_changes_the_tier_policy_and_every_customer_is_reclassified(
        fresh_app: FastAPI) -> None:
    """On a database of its own: the policy is global and starts at version 0 there."""
    async with client_for(fresh_app) as client:
        admin, _ = await admin_and_auditor(client, fresh_app)
        am = await actor(client, admin, admin.department_id, ["account_manager"])
        analyst = await actor(client, admin, admin.department_id, ["analyst"])
        response = await client.get(POLICY, headers=am.headers)
        assert response.status_code == 200 and response.headers["etag"] == '"0"'
        assert response.json()["version"] == 0
        assert policy_of(response.json()) == policy_of(DEFAULT_POLICY)
        low = await make_customer(client, am, **LOW)
        none = await make_customer(client, am)
        assert tier(none) == ("D", "D", None, "0.0")

        lenient = {**DEFAULT_POLICY, "threshold_a": "20", "threshold_b": "10",
                   "threshold_c": "5"}
        for who in (am, analyst):
            response = await client.put(POLICY, json=lenient, headers=headers(who, 0))
            assert_problem(response, 403, "forbidden")
        for body, reason in (
                ({**DEFAULT_POLICY, "weight_growth": "0.1"}, "weights_sum_to_one"),
                ({**DEFAULT_POLICY, "weight_revenue": "0.6"}, "weights_sum_to_one"),
                ({**DEFAULT_POLICY, "threshold_a": "40"}, "thresholds_descending"),
                ({**DEFAULT_POLICY, "threshold_c": "50"}, "thresholds_descending")):
            response = await client.put(POLICY, json=body, headers=headers(admin, 0))
            assert reason in field_errors(response).values()
        assert (await client.get(POLICY, headers=admin.headers)).json()["version"] == 0
        assert tier(await read_customer(client, admin, low["id"])) == tier(low)

        response = await client.put(POLICY, json=lenient, headers=headers(admin, 0))
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"1"' and response.json()["version"] == 1
        assert policy_of(response.json()) == policy_of(lenient)
        reclassified = await read_customer(client, admin, low["id"])
        assert tier(reclassified) == ("A", "A", None, "25.0")
        assert reclassified["version"] == low["version"] + 1
        assert tier(await read_customer(client, admin, none["id"])) == ("D", "D", None, "0.0")

        response = await client.put(POLICY, json=DEFAULT_POLICY, headers=headers(admin, 0))
        assert_problem(response, 412, "precondition_failed")
        response = await client.put(POLICY, json=DEFAULT_POLICY, headers=admin.headers)
        assert_problem(response, 428, "precondition_required")
        response = await client.put(POLICY, json=DEFAULT_POLICY, headers=headers(admin, 1))
        assert response.status_code == 200 and response.json()["version"] == 2
        assert tier(await read_customer(client, admin, low["id"])) == ("C", "C", None, "25.0")


# 3. lifecycle ----------------------------------------------------------------------------

ALLOWED = {"prospect": ["onboarding"], "onboarding": ["active"], "active": ["at_risk"],
           "at_risk": ["active", "churned"], "churned": ["active"]}
CHURN = {"churn_reason": "competitor", "churn_note": "客户转向竞争对手，价格低 20%"}
PATH_TO = {"prospect": [], "onboarding": ["onboarding"], "active": ["onboarding", "active"],
           "at_risk": ["onboarding", "active", "at_risk"],
           "churned": ["onboarding", "active", "at_risk", "churned"]}


async def move(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any], stage: str,
               **extra: Any) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{customer['id']}/stage",
                             json={"stage": stage, **extra}, headers=headers(who, customer))


async def customer_at(client: httpx.AsyncClient, who: Actor, stage: str) -> dict[str, Any]:
    customer = await make_customer(client, who)
    for step in PATH_TO[stage]:
        response = await move(client, who, customer, step,
                              **(CHURN if step == "churned" else {}))
        assert response.status_code == 200, response.text
        customer = response.json()
    assert customer["stage"] == stage
    return customer


async def test_every_allowed_transition_succeeds(client: httpx.AsyncClient,
                                                 actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    assert customer["stage"] == "prospect" and customer["allowed_stages"] == ["onboarding"]
    for target in ("onboarding", "active", "at_risk", "active", "at_risk", "churned",
                   "active"):
        response = await move(client, am, customer, target,
                              **(CHURN if target == "churned" else {}))
        assert response.status_code == 200, response.text
        moved = response.json()
        assert moved["stage"] == target and moved["version"] == customer["version"] + 1
        assert moved["allowed_stages"] == ALLOWED[target]
        if target == "churned":
            assert (moved["churn_reason"], moved["churn_note"]) == tuple(CHURN.values())
        else:
            assert moved["churn_reason"] is None and moved["churn_note"] is None
        customer = moved
    assert await read_customer(client, am, customer["id"]) == customer
    stages = [h["new"] for h in await customer_history(client, am, customer["id"])
              if h["field"] == "stage"]
    assert stages == ["active", "churned", "at_risk", "active", "at_risk", "active",
                      "onboarding", "prospect"]


@pytest.mark.parametrize(("current", "target"), [
    ("prospect", "active"), ("prospect", "churned"), ("prospect", "prospect"),
    ("onboarding", "at_risk"), ("active", "churned"), ("active", "prospect"),
    ("active", "active"), ("churned", "at_risk"), ("churned", "onboarding"),
])
async def test_a_refused_transition_is_409_naming_the_allowed_stages(
        client: httpx.AsyncClient, actors: Actors, current: str, target: str) -> None:
    am = actors.am_east
    customer = await customer_at(client, am, current)
    response = await client.post(
        f"{CUSTOMERS}/{customer['id']}/stage", json={"stage": target, **CHURN},
        headers={**headers(am, customer), "Accept-Language": "zh-CN"})
    body = assert_problem(response, 409, "stage_transition_not_allowed")
    assert f"{current}" in body["detail"] and CJK.search(body["detail"])
    for allowed in ALLOWED[current]:
        assert allowed in body["detail"].rpartition("：")[2]
    response = await move(client, am, customer, target, **CHURN)
    body = assert_problem(response, 409, "stage_transition_not_allowed")
    assert body["detail"].endswith(f"allowed: {', '.join(ALLOWED[current])}.")
    assert await read_customer(client, actors.admin, customer["id"]) == customer


@pytest.mark.parametrize(("extra", "missing"), [
    ({}, {"/churn_reason": "missing", "/churn_note": "missing"}),
    ({"churn_reason": "price"}, {"/churn_note": "missing"}),
    ({"churn_reason": "price", "churn_note": "   "}, {"/churn_note": "missing"}),
    ({"churn_note": "预算被砍"}, {"/churn_reason": "missing"}),
], ids=["nothing", "no-note", "blank-note", "no-reason"])
async def test_churning_needs_a_reason_and_a_note(
        client: httpx.AsyncClient, actors: Actors, extra: dict[str, str],
        missing: dict[str, str]) -> None:
    customer = await customer_at(client, actors.am_east, "at_risk")
    response = await move(client, actors.am_east, customer, "churned", **extra)
    assert field_errors(response) == missing
    assert await read_customer(client, actors.admin, customer["id"]) == customer


async def test_allowed_stages_are_empty_for_a_reader_without_write_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_at(client, actors.am_east, "at_risk")
    for writer in (actors.am_east, actors.head_east, actors.admin):
        assert (await read_customer(client, writer, customer["id"]))["allowed_stages"] == [
            "active", "churned"]
    for reader in (actors.analyst, actors.executive, actors.auditor):
        assert (await read_customer(client, reader, customer["id"]))["allowed_stages"] == []


# 4. integrity ----------------------------------------------------------------------------

A_TIER = {"annual_revenue": "5000000.00", "strategic_importance": 5, "growth_potential": 5}


async def integrity(client: httpx.AsyncClient, who: Actor, customer_id: str) -> dict[str, Any]:
    response = await client.get(f"{CUSTOMERS}/{customer_id}/integrity", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_integrity_lists_what_the_tier_policy_misses_and_follows_new_contacts(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    primary = contact()
    primary["phones"][0]["verified"] = True
    customer = await make_customer(client, am, credit_code=credit_code(), industry="通信设备",
                                   region="广东省深圳市", preferred_channel="wechat",
                                   contacts=[primary], **A_TIER)
    assert customer["tier"]["effective"] == "A"
    report = await integrity(client, am, customer["id"])
    assert report["tier"] == "A" and report["missing"] == ["address", "two_contacts"]
    assert report["percent"] == 77 == customer["integrity_score"]  # 7 of 9
    assert len(report["items"]) == 9
    assert {i["requirement"] for i in report["items"] if not i["satisfied"]} == {
        "address", "two_contacts"}

    response = await client.post(f"{CUSTOMERS}/{customer['id']}/contacts",
                                 json=contact("张伟"), headers=am.headers)
    assert response.status_code == 201, response.text
    report = await integrity(client, actors.analyst, customer["id"])
    assert report["missing"] == ["address"] and report["percent"] == 88  # 8 of 9
    assert (await read_customer(client, am, customer["id"]))["integrity_score"] == 88


async def test_integrity_below_lists_exactly_the_incomplete_customers(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am, tag = actors.am_east, unique("完整性")
    complete = await make_customer(client, am, tags=[tag], contacts=[contact()])  # D: 1 of 1
    empty = await make_customer(client, am, tags=[tag])  # D: 0 of 1
    partial = await make_customer(client, am, tags=[tag], credit_code=credit_code(),
                                  industry="制造", region="江苏", preferred_channel="phone",
                                  contacts=[contact(phones=[])], **A_TIER)  # A: 6 of 9
    scores = {c["id"]: c["integrity_score"] for c in (complete, empty, partial)}
    assert scores == {complete["id"]: 100, empty["id"]: 0, partial["id"]: 66}
    for below in (1, 66, 67, 80, 100, 101):
        expected = {i for i, score in scores.items() if score < below}
        for reader in (am, actors.admin):
            assert await customer_ids(client, reader, tag=tag, integrity_below=below) == expected
    assert await customer_ids(client, am, tag=tag) == set(scores)
    response = await client.get(CUSTOMERS, params={"integrity_below": 0}, headers=am.headers)
    assert field_errors(response) == {"integrity_below": "greater_than_equal"}


# 5. mass assignment ----------------------------------------------------------------------

SERVER_OWNED = {"owner_id": str(uuid.uuid4()), "version": 99,
                "created_at": "2020-01-01T00:00:00Z", "tier_computed": "A", "tier": "A",
                "value_score": "99.0", "integrity_score": 100, "stage": "active",
                "id": str(uuid.uuid4()), "archived": True, "department_id": str(uuid.uuid4())}


@pytest.mark.parametrize("field", list(SERVER_OWNED))
async def test_patch_refuses_server_owned_fields_and_changes_nothing(
        client: httpx.AsyncClient, actors: Actors, field: str) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, industry="零售")
    response = await client.patch(f"{CUSTOMERS}/{customer['id']}",
                                  json={"industry": "金融", field: SERVER_OWNED[field]},
                                  headers=headers(am, customer))
    assert field_errors(response) == {f"/{field}": "extra_forbidden"}
    assert await read_customer(client, actors.admin, customer["id"]) == customer


async def test_create_refuses_a_version(client: httpx.AsyncClient, actors: Actors) -> None:
    name = unique("带版本")
    response = await client.post(CUSTOMERS, json={"name": name, "version": 7},
                                 headers=actors.am_east.headers)
    assert field_errors(response) == {"/version": "extra_forbidden"}
    assert await customer_ids(client, actors.admin, q=name) == set()


# 6. CRUD -----------------------------------------------------------------------------------

async def test_create_returns_location_etag_contacts_and_one_primary(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    body = {"name": unique("深圳市华为技术有限公司"),
            "tags": ["战略客户", "VIP", "战略客户", "VIP"],
            "contacts": [contact("李娜"), contact("张伟"), contact("王芳")]}
    response = await client.post(CUSTOMERS, json=body, headers=am.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"{CUSTOMERS}/{created['id']}"
    assert response.headers["etag"] == '"1"' and created["version"] == 1
    assert created["owner_id"] == am.id and created["department_id"] == actors.east
    assert sorted(created["tags"]) == ["VIP", "战略客户"]
    people = {c["name"]: c for c in created["contacts"]}
    assert set(people) == {"李娜", "张伟", "王芳"} and created["contacts"][0]["name"] == "李娜"
    assert [c["name"] for c in created["contacts"] if c["is_primary"]] == ["李娜"]
    assert all(uuid.UUID(c["id"]) and c["version"] == 1 for c in created["contacts"])
    assert len({c["id"] for c in created["contacts"]}) == 3
    assert (created["stage"], created["archived"]) == ("prospect", False)
    for _ in range(3):  # the same order on every read as in the 201
        assert await read_customer(client, am, created["id"]) == created

    marked = await make_customer(client, am, contacts=[contact("甲"), contact("乙",
                                                                                is_primary=True)])
    assert [(c["name"], c["is_primary"]) for c in marked["contacts"]] == [("乙", True),
                                                                           ("甲", False)]
    assert await read_customer(client, am, marked["id"]) == marked
    name = unique("两个主要联系人")
    response = await client.post(CUSTOMERS, headers=am.headers, json={
        "name": name, "contacts": [contact(is_primary=True), contact(is_primary=True)]})
    assert field_errors(response) == {"/contacts": "one_primary_contact"}
    assert await customer_ids(client, actors.admin, q=name) == set()


async def test_patch_changes_only_what_was_sent(client: httpx.AsyncClient,
                                                actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, industry="零售", region="上海市",
                                   address="浦东新区世纪大道 1 号", tags=["老客户"],
                                   contacts=[contact()], **LOW)
    response = await client.patch(f"{CUSTOMERS}/{customer['id']}",
                                  json={"region": "浙江省杭州市"}, headers=headers(am, customer))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["etag"] == '"2"'
    differing = {k for k in customer if customer[k] != changed[k]}
    assert differing == {"region", "version", "updated_at"}
    assert changed["region"] == "浙江省杭州市"
    assert await read_customer(client, actors.admin, customer["id"]) == changed
    latest = [h for h in await customer_history(client, am, customer["id"])
              if h["action"] == "customer.updated"]
    assert [(h["field"], h["old"], h["new"]) for h in latest] == [
        ("region", "上海市", "浙江省杭州市")]


async def test_stale_or_missing_if_match_changes_nothing(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, industry="零售")
    path = f"{CUSTOMERS}/{customer['id']}"
    response = await client.patch(path, json={"industry": "金融"}, headers=headers(am, customer))
    assert response.status_code == 200, response.text
    current = response.json()

    response = await client.patch(path, json={"industry": "能源"}, headers=headers(am, customer))
    body = assert_problem(response, 412, "precondition_failed")
    assert "2" in body["detail"]
    response = await client.patch(path, json={"industry": "能源"}, headers=am.headers)
    assert_problem(response, 428, "precondition_required")
    for action in ("archive", "stage"):
        response = await client.post(f"{path}/{action}", json={"stage": "onboarding"}
                                     if action == "stage" else None, headers=am.headers)
        assert_problem(response, 428, "precondition_required")
    assert await read_customer(client, actors.admin, customer["id"]) == current


async def test_archive_hides_from_the_default_list_and_restore_brings_it_back(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am, tag = actors.am_east, unique("归档")
    customer = await make_customer(client, am, tags=[tag])
    kept = await make_customer(client, am, tags=[tag])
    path = f"{CUSTOMERS}/{customer['id']}"

    response = await client.post(f"{path}/archive", headers=headers(am, customer))
    assert response.status_code == 200, response.text
    archived = response.json()
    assert archived["archived"] is True and archived["version"] == 2
    assert await customer_ids(client, am, tag=tag) == {kept["id"]}
    assert await customer_ids(client, am, tag=tag, include_archived=True) == {
        kept["id"], customer["id"]}
    assert (await read_customer(client, am, customer["id"]))["archived"] is True

    response = await client.post(f"{path}/archive", headers=headers(am, archived))
    body = assert_problem(response, 409, "invalid_state")
    assert "archived" in body["detail"]
    assert await read_customer(client, actors.admin, customer["id"]) == archived

    response = await client.post(f"{path}/restore", headers=headers(am, archived))
    assert response.status_code == 200, response.text
    assert response.json()["archived"] is False and response.json()["version"] == 3
    assert await customer_ids(client, am, tag=tag) == {kept["id"], customer["id"]}
    response = await client.post(f"{path}/restore", headers=headers(am, response.json()))
    assert_problem(response, 409, "invalid_state")


@pytest.mark.parametrize("name", [
    "北京字节跳动科技有限公司（海淀分公司）",
    "🚀 火箭客户 😀 👨‍👩‍👧",
    "Robert'); DROP TABLE customers;--",
    "' OR '1'='1' /* 100% _wild_ \\ */",
    "Ünïcødé Ｆｕｌｌｗｉｄｔｈ ‮ℛ𝓉𝓁",
])
async def test_unusual_names_round_trip_exactly(client: httpx.AsyncClient, actors: Actors,
                                                name: str) -> None:
    am, tag = actors.am_east, unique("名称")
    customer = await make_customer(client, am, name=name, tags=[tag],
                                   contacts=[contact(name), contact("普通联系人")],
                                   custom_attributes={"备注": name})
    assert customer["name"] == name and customer["contacts"][0]["name"] == name
    stored = await read_customer(client, actors.admin, customer["id"])
    assert stored["name"] == name and stored["custom_attributes"] == {"备注": name}
    listed = await client.get(CUSTOMERS, params={"tag": tag}, headers=am.headers)
    assert [c["name"] for c in listed.json()["data"]] == [name]
    assert customer["id"] in await customer_ids(client, am, q=name[:60], tag=tag)
