"""The survey answer page for the customer's browser, on both engines: the invitation link
answers a plain HTML form when the browser asks for it (zh-CN or English by
Accept-Language, no script, no external asset, readable on a phone); the form's post is
recorded exactly as the JSON answer is, and thanks the customer; a wrong answer re-shows
the form with the reasons (422) and stores nothing; unknown, closed and answered links are
pages with the JSON route's statuses (404, 410, 409); a deployment may point the links at
its own frontend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_feedback import survey_responses, survey_scores
from tests.api.test_plan_report_page import BROWSER, parsed
from tests.change_request_support import customer_of
from tests.conftest import ClientWith
from tests.db import row_count, rows
from tests.support import Actors, TestClock
from tests.survey_support import (
    ANSWERS,
    PUBLIC,
    invite,
    invited,
    make_template,
    public_client,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
FORM = {"Accept": BROWSER, "Content-Type": "application/x-www-form-urlencoded"}
# ANSWERS as a browser posts them: every value a string, the checkboxes repeated.
POSTED = [("nps", "9"), ("csat", "5"), ("ces", "2"), ("channel", "电话"), ("topics", "报价"),
          ("comment", "响应很及时 👍")]


@pytest.fixture
async def issued(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    return await invited(client, actors.am_east, template, customer)


async def test_a_browser_gets_the_form_in_its_language(
        app: FastAPI, issued: dict[str, Any]) -> None:
    async with public_client(app) as public:
        zh = await public.get(issued["link"], headers={"Accept": BROWSER,
                                                       "Accept-Language": "zh-CN,zh;q=0.9"})
        en = await public.get(issued["link"], headers={"Accept": BROWSER,
                                                       "Accept-Language": "en-GB"})
        api = await public.get(issued["link"])
    assert zh.status_code == 200, zh.text
    assert zh.headers["content-type"].startswith("text/html")
    page = parsed(zh)
    assert "script" not in page.tags and page.external == []
    assert '<meta name="viewport"' in zh.text and 'lang="zh-CN"' in zh.text
    assert '<form method="post">' in zh.text
    text = "".join(page.text)
    for expected in ("您有多大可能向同事推荐我们？", "微信", "报价", "提交", "选填"):
        assert expected in text
    assert text.count("还有什么建议？") == 1
    assert 'type="radio" name="nps" value="10"' in zh.text
    assert 'type="checkbox" name="topics" value="专业程度"' in zh.text
    for secret in ("id", "customer_id", "contact_id", "owner_id", "template_id"):
        assert issued[secret] not in zh.text, secret
    assert 'lang="en"' in en.text and "Submit" in en.text
    assert api.headers["content-type"].startswith("application/json")


async def test_the_form_records_the_answer_as_the_json_route_does(
        app: FastAPI, issued: dict[str, Any]) -> None:
    async with public_client(app) as public:
        done = await public.post(issued["link"], data=dict(POSTED[:4]) | {"comment": ""},
                                 headers={**FORM, "Accept-Language": "zh-CN"})
        assert done.status_code == 422, done.text  # nothing ticked for "topics" (required)
        assert "请检查标出的题目" in done.text and "为必填项" in done.text
        assert 'value="电话" checked' in done.text  # what was given is kept
        assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 0
        body = httpx.QueryParams(POSTED).__str__()
        thanks = await public.post(issued["link"], content=body,
                                   headers={**FORM, "Accept-Language": "zh-CN"})
        assert thanks.status_code == 200, thanks.text
        assert "感谢您的反馈" in thanks.text and "<form" not in thanks.text
        again = await public.post(issued["link"], content=body, headers=FORM)
        assert again.status_code == 409 and "already been answered" in again.text
        read = await public.get(issued["link"], headers={"Accept": BROWSER})
        assert read.status_code == 409 and "text/html" in read.headers["content-type"]
    [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
    assert response.answers == ANSWERS
    scores = {s.question_id: s.value
              for s in await rows(app, survey_scores, response_id=response.id)}
    assert scores == {"nps": 9, "csat": 5, "ces": 2}
    assert await row_count(app, outbox, entity_id=issued["id"], type="survey.answered") == 1


async def test_refused_links_are_pages_with_the_json_statuses(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    issued = await invited(client, actors.am_east, template, customer, expires_in_days=1)
    async with public_client(app) as public:
        unknown = await public.get(f"{PUBLIC}/{'x' * 43}",
                                   headers={"Accept": BROWSER, "Accept-Language": "zh-CN"})
        assert unknown.status_code == 404 and "该调查链接无效" in unknown.text
        assert unknown.headers["content-type"].startswith("text/html")
        posted = await public.post(f"{PUBLIC}/{'x' * 43}", content="nps=9", headers=FORM)
        assert posted.status_code == 404 and "text/html" in posted.headers["content-type"]
        shift = (datetime.fromisoformat(issued["expires_at"]) - clock.now()
                 + timedelta(minutes=1)).total_seconds()
        clock.advance(seconds=shift)
        try:
            closed = await public.get(issued["link"], headers={"Accept": BROWSER})
            assert closed.status_code == 410 and "can no longer be answered" in closed.text
            late = await public.post(issued["link"], content="nps=9", headers=FORM)
            assert late.status_code == 410
            assert_json = await public.get(issued["link"])
            assert assert_json.status_code == 410
            assert assert_json.json()["code"] == "survey_closed"
        finally:
            clock.advance(seconds=-shift)
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 0


async def test_links_may_point_at_a_frontend(client_with: ClientWith, actors: Actors) -> None:
    base = "https://portal.example.cn/s/"
    async with client_with(survey_link_base=base) as c:
        template = await make_template(c, actors.admin)
        customer = await customer_of(c, actors.am_east)
        response = await invite(c, actors.am_east, template, customer)
    assert response.status_code == 201, response.text
    assert response.json()["link"] == base + response.json()["token"]
