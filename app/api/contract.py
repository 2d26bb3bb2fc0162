"""What the OpenAPI document says beyond FastAPI's own: the headers the server sends, the
problem ``code``s each error response can carry, If-Match where the server requires it,
If-None-Match and its 304 where the server honours them, and who may act on a record.
Worked out here, from what each route takes (its dependencies, its answer model, its
feature), once for every route, so that a new route is documented the way its neighbours
are; tests/api/test_contract.py holds the document to what the server does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute

from app.api.dependants import api_routes, declared_access, query_names, walk
from app.api.problems import STATUS_BY_KIND, error_responses
from app.domain.common import errors as common
from app.domain.common.errors import DomainError

# The x- extension naming the problem codes of one error response.
CODES = "x-problem-codes"
# The openapi_extra member a route names the parties of its action with (``acted_by``).
ACTED_BY = "x-acted-by"

_TEXT = {"type": "string"}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {"description": "The request's id (yours, if you sent a sane one); "
                                    "quote it when reporting a problem", "schema": _TEXT},
    "ETag": {"description": "The version of the record in this answer: send it back as "
                            "`If-Match` to change the record", "schema": _TEXT},
    "Location": {"description": "Where the created record can be read", "schema": _TEXT},
    "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an "
                                           "earlier request with the same `Idempotency-Key`",
                            "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 0}},
}

NOT_MODIFIED = 304
IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match", "in": "header", "required": False,
    "description": 'ETags of the copy you hold (`"3"`, `W/"3"`, a list or `*`): when one '
                   "names the current version the answer is 304, without a body",
    "schema": {"type": "string", "maxLength": 1000}}
_NOT_MODIFIED_ANSWER = {"description": "Not Modified: the copy you hold (If-None-Match) is "
                                       "the current version; no body"}

# Who a workflow party is, in words (the parties of the change-request, handover and
# feedback workflow tables).
PARTIES = {
    "requester": "the change's requester",
    "project_manager": "a project manager",
    "approver": "whoever may decide the current approval step: a user holding the step's "
                "role (of the customer's department where the step requires it) who is not "
                "the requester and has not decided another step, or their deputy",
    "department_head": "a head of the customer's department",
    "admin": "an admin",
    "handing_over_manager": "the handing-over manager (once that manager has left: a head "
                            "of the customer's department)",
    "receiving_manager": "the receiving manager",
    "signatory": "whoever still owes a signature the handover's level requires: the "
                 "handing-over manager, the receiving manager, a head of the customer's "
                 "department (who also signs for a handing-over manager who has left)",
    "owner": "the item's owner",
}

_EVERY_ROUTE = {400: ("malformed_request", "unknown_query_parameter"),
                413: ("payload_too_large",), 415: ("unsupported_media_type",),
                422: ("validation_failed",), 500: ("internal_error",),
                503: ("database_unavailable",)}
_SIGNED_IN = {401: ("not_authenticated", "invalid_token"), 403: ("forbidden",)}
_RECORD = {404: ("not_found",)}
_ACTING = {403: ("action_not_permitted",),
           409: ("transition_not_allowed", "precondition_unmet", "invalid_state")}
_WRITING = {409: ("write_conflict", "duplicate")}
_IF_MATCH = {412: ("precondition_failed",), 428: ("precondition_required",)}
_IDEMPOTENT = {400: ("malformed_header",), 409: ("idempotency_key_in_flight",),
               422: ("idempotency_key_reused",)}
_PAGED = {400: ("invalid_cursor",)}
# Errors of app.domain.common that belong to one feature's routes.
_TAGGED = {"auth": (common.InvalidCredentials, common.RefreshTokenReused,
                    common.TooManyAttempts),
           "surveys": (common.TooManyRequests,)}
# A feature's own errors are those defined in its domain package.
_FEATURE_OF_PACKAGE = {"customers": "customers", "change_requests": "change requests",
                       "handovers": "handovers", "risk": "risks", "surveys": "surveys",
                       "feedback": "feedback", "knowledge": "knowledge"}


def acted_by(parties: Iterable[Any]) -> dict[str, Any]:
    """``openapi_extra`` for a workflow action's route: the parties (of the feature's
    workflow table) who may take it on a given record."""
    return {ACTED_BY: sorted(str(getattr(p, "value", p)) for p in parties)}


def who_may_act(openapi_extra: dict[str, Any] | None) -> str | None:
    parties = (openapi_extra or {}).get(ACTED_BY)
    if not parties:
        return None
    return "**Who may act on this record:** " + "; or ".join(PARTIES[p] for p in parties) + "."


@dataclass(frozen=True)
class RouteFacts:
    """What a route takes and answers, as far as the document is concerned."""

    tag: str
    method: str
    status: int
    on_record: bool  # its path names a record
    signed_in: bool
    if_match: str | None  # "required", "optional" or None
    idempotent: bool
    paged: bool
    versioned: bool  # its answer is one versioned record: the server sends its ETag
    creates: bool  # 201 that made a record at ``<path>/{id}``: its URL is in Location

    @classmethod
    def of(cls, route: APIRoute, method: str, paths: frozenset[str]) -> RouteFacts:
        calls = {getattr(d.call, "__name__", "") for d in walk(route.dependant)}
        access = declared_access(route)
        fields = getattr(route.response_model, "model_fields", {})
        status = route.status_code or 200
        return cls(
            tag=str(route.tags[0]) if route.tags else "", method=method, status=status,
            on_record="{" in route.path, signed_in=access is None or not access.public,
            if_match="required" if "if_match" in calls
            else "optional" if "optional_if_match" in calls else None,
            idempotent="idempotency_key" in calls, paged="cursor" in query_names(route),
            versioned="version" in fields,
            creates=status == 201 and any(p.startswith(route.path + "/{")
                                          and p.count("/") == route.path.count("/") + 1
                                          for p in paths))

    def statuses(self) -> set[int]:
        """Error statuses that follow from what the route takes."""
        found = set()
        if self.if_match:
            found |= {412, 428} if self.if_match == "required" else {412}
        if self.idempotent:
            found |= {409, 422}
        return found

    def headers(self, status: int) -> dict[str, dict[str, Any]]:
        names = ["X-Request-Id"]
        if 200 <= status < 300 or status == NOT_MODIFIED:
            names += ["ETag"] if self.versioned else []
            names += ["Location"] if self.creates and status == 201 else []
        if status in (429, 503):
            names.append("Retry-After")
        if self.idempotent and status < 500 and status != 429:
            names.append("Idempotent-Replayed")  # a stored answer, error or not
        return {name: {"$ref": f"#/components/headers/{name}"} for name in names}

    @property
    def conditional_get(self) -> bool:
        """A GET answering one versioned record: If-None-Match naming its ETag gets 304
        (app.api.middleware.NotModifiedMiddleware)."""
        return self.method == "GET" and self.versioned

    def codes(self, status: int) -> list[str]:
        tables = [_EVERY_ROUTE, _PAGED if self.paged else {},
                  _SIGNED_IN if self.signed_in else {}, _RECORD if self.on_record else {},
                  _ACTING if self.on_record and self.method != "GET" else {},
                  _WRITING if self.method != "GET" else {},
                  _IDEMPOTENT if self.idempotent else {},
                  _IF_MATCH if self.if_match == "required" else
                  {412: _IF_MATCH[412]} if self.if_match else {}]
        found = {code for table in tables for code in table.get(status, ())}
        found |= {e.code for e in _feature_errors().get(self.tag, ())
                  if STATUS_BY_KIND[e.kind] == status}
        return sorted(found)


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _feature_errors() -> dict[str, list[type[DomainError]]]:
    found: dict[str, list[type[DomainError]]] = {t: list(e) for t, e in _TAGGED.items()}
    for error in _subclasses(DomainError):
        parts = error.__module__.split(".")
        if parts[:2] == ["app", "domain"] and parts[2] in _FEATURE_OF_PACKAGE:
            found.setdefault(_FEATURE_OF_PACKAGE[parts[2]], []).append(error)
    return found


def complete(document: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """The document with each operation's headers, codes and implied statuses."""
    document.setdefault("components", {})["headers"] = HEADERS
    included = [r for r in api_routes(routes) if r.include_in_schema]
    paths = frozenset(r.path for r in included)
    for route in included:
        for method in route.methods:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _complete_operation(operation, RouteFacts.of(route, method, paths))
    _patches_keep_what_is_left_out(document)
    return document


def _patches_keep_what_is_left_out(document: dict[str, Any]) -> None:
    """A PATCH body's fields keep their value when left out, whatever default the model
    gives them in Python: the document shows none, and says so."""
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        body = item.get("patch", {}).get("requestBody", {})
        ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if ref is None:
            continue
        schema = schemas[ref.rsplit("/", 1)[-1]]
        for field in schema.get("properties", {}).values():
            field.pop("default", None)
        schema["description"] = (schema.get("description", "") + "\n\n"
                                 "Only the fields sent change; a field left out keeps its "
                                 "value.").strip()


def _complete_operation(operation: dict[str, Any], facts: RouteFacts) -> None:
    responses = operation["responses"]
    if facts.if_match != "required":
        responses.pop("428", None)
    for status, response in error_responses(*facts.statuses()).items():
        responses.setdefault(str(status), response)
    if facts.conditional_get:
        operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))
        responses[str(NOT_MODIFIED)] = dict(_NOT_MODIFIED_ANSWER)
    operation["responses"] = dict(sorted(responses.items()))
    for status, response in operation["responses"].items():
        response.setdefault("headers", {}).update(facts.headers(int(status)))
        if int(status) >= 400:
            codes = facts.codes(int(status))
            if codes:
                response[CODES] = codes
                base = response["description"].split(". Codes:")[0]
                response["description"] = f"{base}. Codes: " + ", ".join(
                    f"`{c}`" for c in codes)
