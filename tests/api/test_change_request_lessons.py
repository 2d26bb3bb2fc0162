"""Closing a change with lessons learned leaves a knowledge article (domain §3.5, §8),
written in the same transaction and found by a two-character Chinese search."""

from __future__ import annotations

import httpx

from tests.customer_support import make_customer
from tests.support import Actor, Actors

CR = "/api/v1/change-requests"


def _with(actor: Actor, etag: str) -> dict[str, str]:
    return {**actor.headers, "If-Match": etag}


async def _step(client: httpx.AsyncClient, path: str, actor: Actor, etag: str,
                body: dict[str, object] | None = None) -> httpx.Response:
    response = await client.post(path, headers=_with(actor, etag), json=body or {})
    assert response.status_code == 200, response.text
    return response


async def test_closing_with_lessons_creates_a_linked_searchable_article(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, name="苏州精工机械有限公司")
    created = await client.post(CR, headers=am.headers, json={
        "customer_id": customer["id"], "title": "交付范围调整", "description": "增加质检模块",
        "reason": "客户新增质检要求", "expected_effect": "减少返工",
        "category": "scope", "type": "standard", "requested_completion_date": "2027-01-15"})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    approved = await _step(client, f"{CR}/{cid}/submit", am, created.headers["etag"])
    assert approved.json()["state"] == "approved"  # a standard change needs no approval
    implementing = await _step(client, f"{CR}/{cid}/start-implementation", am,
                               approved.headers["etag"])
    done = await _step(client, f"{CR}/{cid}/complete-implementation", am,
                       implementing.headers["etag"])
    lessons = "提前与客户确认验收标准，避免项目延期"
    reviewed = await _step(client, f"{CR}/{cid}/review", am, done.headers["etag"], {
        "goals_met": "yes", "actual_cost": "12000.00", "actual_schedule_days": 6,
        "customer_satisfaction": 5, "lessons_learned": lessons})
    closed = await _step(client, f"{CR}/{cid}/close", am, reviewed.headers["etag"])
    body = closed.json()
    assert body["state"] == "closed" and body["knowledge_article_id"]

    found = await client.get("/api/v1/knowledge-articles", headers=actors.analyst.headers,
                             params={"q": "延期"})
    assert found.status_code == 200, found.text
    article = next(a for a in found.json()["data"] if a["id"] == body["knowledge_article_id"])
    assert article["change_request_ids"] == [cid]
    assert article["customer_ids"] == [customer["id"]]
    full = await client.get(f"/api/v1/knowledge-articles/{article['id']}",
                            headers=actors.analyst.headers)
    assert lessons in full.json()["body"] and "交付范围调整" in full.json()["title"]
    timeline = await client.get(f"/api/v1/customers/{customer['id']}/timeline",
                                headers=am.headers)
    types = [e["type"] for e in timeline.json()["data"]]
    assert "change_request.closed" in types and "knowledge_article.created" in types


async def test_closing_without_lessons_creates_no_article(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, name="无锡远航物流有限公司")
    created = await client.post(CR, headers=am.headers, json={
        "customer_id": customer["id"], "title": "联系人变更", "description": "更换对接人",
        "reason": "人员调整", "expected_effect": "沟通顺畅", "category": "contact_arrangements",
        "type": "standard", "requested_completion_date": "2027-01-15"})
    etag = created.headers["etag"]
    cid = created.json()["id"]
    for action in ("submit", "start-implementation", "complete-implementation"):
        etag = (await _step(client, f"{CR}/{cid}/{action}", am, etag)).headers["etag"]
    etag = (await _step(client, f"{CR}/{cid}/review", am, etag, {
        "goals_met": "partly", "actual_cost": "0", "actual_schedule_days": 1,
        "customer_satisfaction": 4, "lessons_learned": ""})).headers["etag"]
    closed = await _step(client, f"{CR}/{cid}/close", am, etag)
    assert closed.json()["knowledge_article_id"] is None
