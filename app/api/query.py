"""Unknown query parameters are a 400: a misspelt filter must not silently list everything."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from app.api.dependants import query_names
from app.api.problems import ApiProblem

_allowed: dict[int, frozenset[str]] = {}


def _allowed_names(route: APIRoute) -> frozenset[str]:
    names = _allowed.get(id(route))
    if names is None:
        names = _allowed[id(route)] = query_names(route)
    return names


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = set(request.query_params) - _allowed_names(route)
    if unknown:
        raise ApiProblem(400, "unknown_query_parameter", names=", ".join(sorted(unknown)))
