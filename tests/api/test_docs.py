"""/docs and /redoc work on a network with no internet: every asset their HTML names is
served by the service itself (api-conventions: "their assets are served by the service
itself, not from a CDN"). The real browser check is tests/api/test_docs_browser.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from tests.support import assert_problem

ABSOLUTE_URL = re.compile(r"""https?://[^\s'"<>)]+""", re.IGNORECASE)
ASSET_TYPES = {"script": "javascript", "stylesheet": "text/css", "icon": "image/"}


class _Assets(HTMLParser):
    """Collects what a page loads: script sources, linked files, inline script text."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[tuple[str, str]] = []  # (kind, url)
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src"):
                self.loaded.append(("script", str(attributes["src"])))
        if tag == "link" and attributes.get("href"):
            rel = str(attributes.get("rel", ""))
            self.loaded.append(("stylesheet" if "stylesheet" in rel else "icon",
                                str(attributes["href"])))
        if tag == "redoc" and attributes.get("spec-url"):
            self.loaded.append(("spec", str(attributes["spec-url"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


async def _page(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, _Assets]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(response.text)
    return response, parser


@pytest.mark.parametrize(("path", "kinds"), [
    ("/docs", {"script", "stylesheet", "icon"}),
    ("/redoc", {"script", "icon", "spec"}),
])
async def test_explorer_pages_load_only_same_origin_assets(
        client: httpx.AsyncClient, path: str, kinds: set[str]) -> None:
    response, page = await _page(client, path)
    assert {kind for kind, _ in page.loaded} == kinds
    assert ABSOLUTE_URL.findall(response.text) == [], "a page names another host"
    for kind, url in page.loaded:
        assert url.startswith("/") and not url.startswith("//"), url
        if kind == "spec":
            continue
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert ASSET_TYPES[kind] in asset.headers["content-type"], url
        assert len(asset.content) > 1000, url
    assert "fonts.googleapis" not in response.text


async def test_swagger_ui_is_wired_to_the_served_document_and_oauth_redirect(
        client: httpx.AsyncClient) -> None:
    _, page = await _page(client, "/docs")
    init = "".join(page.inline)
    assert "SwaggerUIBundle(" in init
    assert "url: '/openapi.json'" in init
    assert "window.location.origin + '/docs/oauth2-redirect'" in init
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Accord"

    redirect, redirect_page = await _page(client, "/docs/oauth2-redirect")
    assert "swaggerUIRedirectOauth2" in "".join(redirect_page.inline)
    assert redirect_page.loaded == []
    assert ABSOLUTE_URL.findall(redirect.text) == []


async def test_swagger_bundle_is_the_real_library(client: httpx.AsyncClient) -> None:
    bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    redoc = await client.get("/docs-assets/redoc.standalone.js")
    assert "Redoc" in redoc.text
    assert_problem(await client.get("/docs-assets/nothing-here.js"), 404, "route_not_found")


async def test_redoc_fetches_nothing_from_a_cdn(client: httpx.AsyncClient) -> None:
    """ReDoc's side menu loads Redocly's logo from cdn.redoc.ly unless the script served
    names no such host."""
    _, page = await _page(client, "/redoc")
    [script] = [url for kind, url in page.loaded if kind == "script"]
    served = await client.get(script)
    assert served.status_code == 200
    assert "Redoc" in served.text
    assert re.findall(r"https?://cdn\.[^\s'\"]+", served.text) == []
