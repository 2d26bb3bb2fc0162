"""Builders for survey scenarios (满意度调查), shared by the survey, token and satisfaction
tests: a template with one question of every kind, an invitation made through the API (its
token is in the 201 answer only), a public client on an address of its own (the public page
counts attempts per address, so a test sharing the app's one address would trip the rate
limit of another), and answering through the public page."""

from __future__ import annotations

import random
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.support import Actor, Actors, build_actors, unique, versioned

TEMPLATES = "/api/v1/survey-templates"
INVITATIONS = "/api/v1/survey-invitations"
PUBLIC = "/api/v1/public/surveys"
AUTOMATION = "/api/v1/settings/survey-automation"
REPORT = "/api/v1/reports/satisfaction"
_random = random.SystemRandom()

# One question of every kind; the text question is optional.
QUESTIONS: list[dict[str, Any]] = [
    {"id": "nps", "kind": "nps", "text": "您有多大可能向同事推荐我们？"},
    {"id": "csat", "kind": "csat", "text": "您对本次服务满意吗？"},
    {"id": "ces", "kind": "ces", "text": "办理这件事有多容易？"},
    {"id": "channel", "kind": "single_choice", "text": "您通过哪个渠道联系我们？",
     "options": ["电话", "邮件", "微信"]},
    {"id": "topics", "kind": "multiple_choice", "text": "哪些方面需要改进？",
     "options": ["响应速度", "专业程度", "报价"]},
    {"id": "comment", "kind": "text", "text": "还有什么建议？", "required": False},
]
# A complete, valid answer to QUESTIONS.
ANSWERS: dict[str, Any] = {"nps": 9, "csat": 5, "ces": 2, "channel": "电话",
                           "topics": ["报价"], "comment": "响应很及时 👍"}


def address() -> str:
    """A client address no other test uses (the public page limits attempts per address)."""
    return "10.{}.{}.{}".format(*(_random.randrange(1, 255) for _ in range(3)))


def public_client(app: FastAPI, at: str | None = None) -> httpx.AsyncClient:
    """A client without credentials calling from an address of its own."""
    return client_for(app, at or address())


async def make_template(client: httpx.AsyncClient, admin: Actor,
                        questions: list[dict[str, Any]] | None = None,
                        name: str | None = None) -> dict[str, Any]:
    response = await client.post(TEMPLATES, headers=admin.headers, json={
        "name": name or unique("变更完成回访"), "questions": questions or QUESTIONS})
    return versioned(response, 201)


async def invite(client: httpx.AsyncClient, who: Actor, template: dict[str, Any],
                 customer: dict[str, Any], contact_id: str | None = None,
                 **fields: Any) -> httpx.Response:
    """POST an invitation (to the customer's first contact unless told)."""
    return await client.post(INVITATIONS, headers=who.headers, json={
        "template_id": template["id"], "customer_id": customer["id"],
        "contact_id": contact_id or customer["contacts"][0]["id"], **fields})


async def invited(client: httpx.AsyncClient, who: Actor, template: dict[str, Any],
                  customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The 201 body of an invitation (with its ``token``, shown this once)."""
    response = await invite(client, who, template, customer, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["link"] == f"{PUBLIC}/{body['token']}"
    return body


async def submit(public: httpx.AsyncClient, token: str,
                 answers: dict[str, Any]) -> httpx.Response:
    return await public.post(f"{PUBLIC}/{token}/responses", json={"answers": answers})


async def answer(app: FastAPI, token: str, answers: dict[str, Any]) -> None:
    """Answer through the public page from an address of its own (204 expected)."""
    async with public_client(app) as public:
        response = await submit(public, token, answers)
    assert response.status_code == 204, response.text


async def own_team(app: FastAPI) -> tuple[httpx.AsyncClient, Actors]:
    """A client and every role on an app of the test's own (for figures that count the
    whole database, or settings that apply to all of it)."""
    client = client_for(app)
    return client, await build_actors(client, app)


async def scheduler(client: httpx.AsyncClient, admin: Actor) -> dict[str, str]:
    """Headers of a new API key with the ``jobs:run`` scope (what a scheduler calls with)."""
    issued = await client.post("/api/v1/api-keys", headers=admin.headers,
                               json={"name": unique("调度器"), "scopes": ["jobs:run"]})
    assert issued.status_code == 201, issued.text
    return {"X-API-Key": issued.json()["key"]}
