"""Routes are tried in order and the first that matches wins (the routers' order in
``app.api.v1.routers`` is chosen for speed, busiest first). So no route may take a
request meant for a later one: for every route, a request for it with the same method
must not be matched by any route before it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match

from app.api.dependants import routes_in_matching_order
from app.api.route_matching import AccordRoute
from tests import conftest

PARAMETER = re.compile(r"{(\w+)(?::(\w+))?}")
SAMPLES = {"uuid": str(uuid.UUID(int=7)), "int": "7", "float": "7.5", "path": "some/file"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The real app, with its routers in their real order (no database is touched)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('routes') / 'unused.db'}"
    application = conftest.test_app(conftest.test_settings(url))
    yield application
    asyncio.run(application.state.engines.dispose())


def request_for(route: Any, method: str) -> dict[str, Any]:
    """An HTTP scope a client would send to ``route``: each parameter a sample value."""
    path = PARAMETER.sub(lambda m: SAMPLES.get(m.group(2) or "", f"sample-{m.group(1)}"),
                         route.path)
    return {"type": "http", "method": method, "path": path, "root_path": "",
            "headers": [], "query_string": b""}


def shadowed(routes: list[BaseRoute]) -> list[str]:
    found = []
    for position, route in enumerate(routes):
        for method in sorted(getattr(route, "methods", None) or ()):
            scope = request_for(route, method)
            taker = next((earlier for earlier in routes[:position]
                          if earlier.matches(scope)[0] is Match.FULL), None)
            if taker is not None:
                found.append(f"{method} {route.path} is taken by the earlier "  # type: ignore[attr-defined]
                             f"{method} {taker.path}")  # type: ignore[attr-defined]
    return found


def test_no_route_is_shadowed_by_an_earlier_one(app: FastAPI) -> None:
    routes = list(routes_in_matching_order(app.routes))
    assert len(routes) > 100, "the walk must see the routes inside the included routers"
    assert shadowed(routes) == []


def test_a_shadowed_route_is_reported() -> None:
    """The check itself: a route with a parameter placed before a literal sibling."""
    by_id = AccordRoute("/api/v1/things/{thing_id}", _endpoint, methods=["GET", "PATCH"])
    literal = AccordRoute("/api/v1/things/special", _endpoint, methods=["GET"])
    other_method = AccordRoute("/api/v1/things/archived", _endpoint, methods=["POST"])
    assert shadowed([by_id, literal, other_method]) == [
        "GET /api/v1/things/special is taken by the earlier GET /api/v1/things/{thing_id}"]
    assert shadowed([literal, other_method, by_id]) == []


async def _endpoint() -> None:
    return None
