"""Reading a route's dependency tree: its access declaration and its query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from app.domain.access.principal import Access


def walk(dependant: Any) -> Iterator[Any]:
    """Every dependant in the tree, the route's own first."""
    stack = [dependant]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.dependencies))


def declared_access(route: APIRoute) -> Access | None:
    for dependant in walk(route.dependant):
        access = getattr(dependant.call, "access", None)
        if isinstance(access, Access):
            return access
    return None


def query_names(route: APIRoute) -> frozenset[str]:
    return frozenset(p.alias for d in walk(route.dependant) for p in d.query_params)


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of an app, looking inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
