"""The customer's two pages in a real headless Chromium, on both engines: the shared
progress report shows the customer-facing text and none of the internal fields, and the
survey answer page is filled in and submitted like a person would (radio buttons,
checkboxes, a text box, the submit button; the page itself runs no script), after which
the API reports the invitation answered with exactly those answers.

The test's own app is served by uvicorn on the test's event loop (so both engines' pools
stay on their loop) and Chromium is driven over the DevTools protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import aiohttp
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.repositories.tables_feedback import survey_responses
from tests.api.test_docs_browser import CHROMIUM, needs_chromium
from tests.change_request_support import customer_of
from tests.db import rows
from tests.plan_support import active_plan, publish_and_share
from tests.support import Actors
from tests.survey_support import ANSWERS, INVITATIONS, invited, make_template

pytestmark = [needs_chromium, pytest.mark.asyncio(loop_scope="session")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Tab:
    """One Chromium page over the DevTools protocol: navigate, evaluate, wait for loads."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.calls = 0
        self.events: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls += 1
        await self.ws.send_json({"id": self.calls, "method": method, "params": params})
        while True:
            data = json.loads((await self.ws.receive(timeout=30)).data)
            if data.get("id") == self.calls:
                assert "error" not in data, data
                result: dict[str, Any] = data.get("result", {})
                return result
            if "method" in data:
                self.events.append(data["method"])

    async def loaded(self) -> None:
        while "Page.loadEventFired" not in self.events:
            data = json.loads((await self.ws.receive(timeout=30)).data)
            if "method" in data:
                self.events.append(data["method"])
        self.events.clear()

    async def open(self, url: str) -> None:
        self.events.clear()
        await self.call("Page.navigate", url=url)
        await self.loaded()

    async def js(self, expression: str) -> Any:
        found = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in found, found
        return found["result"].get("value")


@contextlib.asynccontextmanager
async def chromium(language: str) -> AsyncIterator[Tab]:
    """Headless Chromium with only 127.0.0.1 reachable, asking for ``language``."""
    port = _free_port()
    # Chromium's helper processes may still be writing the profile as the browser dies
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        browser = await asyncio.create_subprocess_exec(
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-sync",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
            "--window-size=390,844", "about:blank",  # a phone's width
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            async with aiohttp.ClientSession() as http:
                target = None
                for _ in range(200):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"http://127.0.0.1:{port}/json/list") as listed:
                            pages = [t for t in await listed.json() if t["type"] == "page"]
                            if pages:
                                target = pages[0]
                                break
                    await asyncio.sleep(0.1)
                assert target is not None, "Chromium did not open its DevTools port"
                async with http.ws_connect(target["webSocketDebuggerUrl"],
                                           max_msg_size=0) as ws:
                    tab = Tab(ws)
                    await tab.call("Page.enable")
                    await tab.call("Network.enable")
                    await tab.call("Network.setExtraHTTPHeaders",
                                   headers={"Accept-Language": language})
                    yield tab
        finally:
            browser.kill()
            await browser.wait()


async def test_the_progress_report_page_in_chromium(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    plan = await active_plan(client, actors.am_east)
    shared = await publish_and_share(client, actors.am_east, plan)
    async with served(app) as base, chromium("zh-CN,zh;q=0.9") as tab:
        await tab.open(base + shared["link"])
        text = await tab.js("document.body.innerText")
        assert await tab.js("document.documentElement.lang") == "zh-CN"
        assert await tab.js("document.scripts.length") == 0
        # readable on a phone: nothing wider than the screen
        assert await tab.js("document.documentElement.scrollWidth <= window.innerWidth")
    for expected in ("项目进展报告", plan["title"], "完成需求调研与蓝图设计", "需求确认",
                     "2027-02-01"):
        assert expected in text
    for internal in ("客户预算偏紧", plan["id"], plan["owner_id"], plan["customer_id"]):
        assert internal not in text


async def test_the_survey_page_is_filled_and_submitted_in_chromium(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    issued = await invited(client, actors.am_east, template, customer)
    async with served(app) as base, chromium("zh-CN") as tab:
        await tab.open(base + issued["link"])
        assert "您有多大可能向同事推荐我们？" in await tab.js("document.body.innerText")
        assert await tab.js("document.scripts.length") == 0
        await tab.js("""(() => {
            const pick = (name, value) =>
                document.querySelector(`input[name="${name}"][value="${value}"]`).click();
            pick("nps", "9"); pick("csat", "5"); pick("ces", "2");
            pick("channel", "电话"); pick("topics", "报价");
            document.querySelector('textarea[name="comment"]').value = "响应很及时 👍";
            document.querySelector('button[type="submit"]').click();
        })()""")
        await tab.loaded()
        thanks = await tab.js("document.body.innerText")
    assert "感谢您的反馈" in thanks
    listed = await client.get(INVITATIONS, headers=actors.am_east.headers,
                              params={"customer_id": customer["id"]})
    [invitation] = [i for i in listed.json()["data"] if i["id"] == issued["id"]]
    assert invitation["responded_at"] is not None
    [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
    assert response.answers == ANSWERS
