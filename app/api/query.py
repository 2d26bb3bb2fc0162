"""Unknown query parameters are a 400: a misspelt filter must not silently list everything.
U+0000 in a query or form value is a 422: PostgreSQL text cannot hold it. And the ``q``
parameter every searching list takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import StringConstraints

from app.api.dependants import query_names
from app.api.problems import ApiProblem

_allowed: dict[int, frozenset[str]] = {}
SEARCH_MAX = 100


def search_text(searched: str) -> Any:
    """The ``q`` of a list that searches, ``searched`` saying in what: two characters or
    more once surrounding spaces are dropped (what the search indexes can match), at most
    ``SEARCH_MAX``."""
    return Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=2),
                     Query(max_length=SEARCH_MAX, description=(
                         "Any substring (two characters or more, surrounding spaces "
                         f"ignored) of {searched}"))]
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _allowed_names(route: APIRoute) -> frozenset[str]:
    names = _allowed.get(id(route))
    if names is None:
        names = _allowed[id(route)] = query_names(route)
    return names


async def check_query_and_form(request: Request) -> None:
    """Both checks as one dependency (each dependency costs FastAPI a resolution per
    request); a request with neither a query string nor a form skips them outright."""
    if not request.scope.get("query_string") and not _is_form(request):
        return
    _reject_unknown_query(request)
    await _reject_nul_characters(request)


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith(_FORM_TYPES)


def _reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = set(request.query_params) - _allowed_names(route)
    if unknown:
        raise ApiProblem(400, "unknown_query_parameter", names=", ".join(sorted(unknown)))


def contains_nul(value: Any) -> bool:
    """Whether ``value`` (a string, or a list or dict holding strings) has a U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    return False


async def _reject_nul_characters(request: Request) -> None:
    """JSON bodies are checked by the Input model; this covers query strings and forms."""
    values = [("query", name, value) for name, value in request.query_params.multi_items()]
    if _is_form(request):
        form = await request.form()
        values += [("body", name, value) for name, value in form.multi_items()
                   if isinstance(value, str)]
    errors = [{"type": "string_nul", "loc": (where, name), "msg": "must not contain NUL "
               "characters", "input": value} for where, name, value in values
              if contains_nul(value)]
    if errors:
        raise RequestValidationError(errors)
