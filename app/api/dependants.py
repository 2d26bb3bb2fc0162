"""Reading the app's routes: each route's dependency tree (its access declaration and its
query parameters), and the routes in the order the app tries them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

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


def routes_in_matching_order(routes: Iterable[Any]) -> Iterator[BaseRoute]:
    """The routes as the app tries them: an included router's (FastAPI keeps it whole,
    as ``original_router``) in its place."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from routes_in_matching_order(route.original_router.routes)
        else:
            yield route


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of an app, looking inside included routers."""
    return (r for r in routes_in_matching_order(routes) if isinstance(r, APIRoute))
