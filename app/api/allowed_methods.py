"""What a 405 names in its ``Allow`` header, and which API versions exist.

Starlette answers a wrong method with the methods of the first route whose path matched,
but one path is often served by several routes (``GET /customers`` lists, ``POST
/customers`` creates), so ``Allow`` named only some of them, and a literal path such as
``/risks/heatmap`` was answered with the methods of ``/risks/{risk_id}``. Here every route
that matches the path counts (included routers' routes in their place), the most specific
ones only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Match
from starlette.types import Scope

from app.api.dependants import routes_in_matching_order

API_VERSIONS = ("v1",)


def allowed_methods(routes: Iterable[Any], scope: Scope) -> list[str]:
    """Every method the routes most specific to the scope's path answer: where a literal
    route matches (``/risks/heatmap``), a route taking that segment as a parameter
    (``/risks/{risk_id}``) does not count, since its parameter is an id."""
    by_parameters: dict[int, set[str]] = {}
    for route in routes_in_matching_order(routes):
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(scope)[0] is not Match.NONE:
            by_parameters.setdefault(len(route.param_convertors), set()).update(route_methods)
    return sorted(by_parameters[min(by_parameters)]) if by_parameters else []


def unknown_api_version(path: str) -> bool:
    """``/api/v2/...``: a path under ``/api`` whose first segment is no version we serve."""
    prefix, _, rest = path.partition("/api/")
    return prefix == "" and rest.split("/", 1)[0] not in API_VERSIONS
