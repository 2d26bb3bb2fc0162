"""The shared progress report as a page for the customer's browser, on both engines: the
same link answers plain HTML when the browser asks for it (zh-CN or English by
Accept-Language), with no script and no external asset, readable on a phone, and the same
token rules (revoked: 404); a deployment may point the links at its own frontend."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from tests.conftest import ClientWith
from tests.plan_support import active_plan, publish_and_share, report_path, with_version
from tests.support import Actors

pytestmark = pytest.mark.asyncio(loop_scope="session")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(response: httpx.Response) -> _Page:
    page = _Page()
    page.feed(response.text)
    return page


async def test_a_browser_gets_a_page_in_its_language(client: httpx.AsyncClient,
                                                     actors: Actors) -> None:
    plan = await active_plan(client, actors.am_east)
    shared = await publish_and_share(client, actors.am_east, plan)
    link = shared["link"]
    zh = await client.get(link, headers={"Accept": BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == 200, zh.text
    assert zh.headers["content-type"].startswith("text/html")
    page = parsed(zh)
    assert "script" not in page.tags and page.external == []
    assert '<meta name="viewport"' in zh.text and 'lang="zh-CN"' in zh.text
    text = "".join(page.text)
    for expected in ("项目进展报告", plan["title"], "完成需求调研与蓝图设计", "需求确认",
                     "2027-02-01"):
        assert expected in text
    assert "客户预算偏紧" not in text  # the internal note stays inside
    en = await client.get(link, headers={"Accept": BROWSER, "Accept-Language": "en-US"})
    assert "Progress report" in en.text and 'lang="en"' in en.text
    api = await client.get(link)  # an API client still gets JSON
    assert api.headers["content-type"].startswith("application/json")

    revoked = await client.post(report_path(shared, "/revoke-share"),
                                headers=with_version(actors.am_east, shared))
    assert revoked.status_code == 200
    gone = await client.get(link, headers={"Accept": BROWSER})
    assert gone.status_code == 404


async def test_links_may_point_at_a_frontend(client_with: ClientWith, actors: Actors) -> None:
    base = "https://portal.example.cn/r/"
    async with client_with(plan_report_link_base=base) as c:
        plan = await active_plan(c, actors.am_east)
        shared: dict[str, Any] = await publish_and_share(c, actors.am_east, plan)
        assert shared["link"] == base + shared["token"]
