"""Dates and times a client sends are bounded (years 1900–2200) and written as ISO 8601:
an instant at the edge of what Python can represent, or a bare number taken for a Unix
timestamp, is a 422 naming the field — never a 500 from arithmetic deep in a use case."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

import app.api.v1.schemas
from app.api.v1.schemas.base import Input
from tests.change_request_support import customer_of, draft, path_of
from tests.support import Actors, TestClock, actor, field_errors, unique

EDGE_INSTANTS = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
                 "1899-12-31T23:59:59Z", "2201-01-01T00:00:00Z"]
EDGE_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"]
NUMBERS = ["0", "1700000000", "20260101"]


async def test_a_delegation_ending_at_the_edge_of_time_is_a_field_error(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    north = (await client.post("/api/v1/departments", headers=actors.admin.headers,
                               json={"name": unique("华北事业部")})).json()["id"]
    head = await actor(client, actors.admin, north, ["department_head"])
    deputy = await actor(client, actors.admin, actors.west, ["department_head"])
    now = clock.now()
    delegation = {"delegator_id": head.id, "deputy_id": deputy.id, "role": "department_head",
                  "starts_at": (now - timedelta(hours=1)).isoformat()}
    for edge in EDGE_INSTANTS:
        response = await client.post("/api/v1/delegations", headers=head.headers,
                                     json={**delegation, "ends_at": edge})
        assert field_errors(response) == {"/ends_at": "date_out_of_range"}, edge
        response = await client.post("/api/v1/delegations", headers=head.headers,
                                     json={**delegation, "starts_at": edge,
                                           "ends_at": (now + timedelta(hours=1)).isoformat()})
        assert field_errors(response) == {"/starts_at": "date_out_of_range"}, edge
    inside = await client.post("/api/v1/delegations", headers=head.headers, json={
        **delegation, "ends_at": "2200-12-31T23:59:59-01:00"})
    assert inside.status_code == 201, inside.text


async def test_a_communication_reported_at_the_edge_of_time_is_a_field_error(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of(client, actors.am_east)
    cr = await draft(client, actors.am_east, customer)
    for edge in EDGE_INSTANTS:
        response = await client.post(path_of(cr, "/communications"),
                                     headers=actors.am_east.headers, json={
            "contact_id": customer["contacts"][0]["id"], "channel": "phone",
            "summary": "已电话告知客户进度", "reported_at": edge})
        assert field_errors(response) == {"/reported_at": "date_out_of_range"}, edge


async def test_a_day_out_of_range_is_refused_in_the_callers_language(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of(client, actors.am_east)
    response = await client.post("/api/v1/change-requests", headers={
        **actors.am_east.headers, "Accept-Language": "zh-CN"}, json={
        "customer_id": customer["id"], "title": unique("边界日期"),
        "requested_completion_date": "9999-12-31"})
    assert field_errors(response) == {"/requested_completion_date": "date_out_of_range"}
    [error] = response.json()["errors"]
    assert error["detail"] == "年份须在 1900 到 2200 之间"


def _date_queries(application: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(path, name, holds a time) of every GET query parameter the document types as a
    date or a date and time."""
    for path, operations in application.openapi()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter["schema"]
            formats = {s.get("format") for s in schema.get("anyOf", [schema])}
            if parameter["in"] == "query" and formats & {"date", "date-time"}:
                yield path, parameter["name"], "date-time" in formats


async def test_date_query_parameters_refuse_numbers_and_years_out_of_range(
        client: httpx.AsyncClient, actors: Actors, app: FastAPI) -> None:
    queries = list(_date_queries(app))
    assert {name for _, name, _ in queries} >= {"since", "until", "review_due_by",
                                                "updated_since"}
    for path, name, timed in queries:
        for value in NUMBERS:
            response = await client.get(path, headers=actors.admin.headers,
                                        params={name: value})
            assert field_errors(response) == {name: "date_not_iso"}, (path, name, value)
        for value in EDGE_INSTANTS if timed else EDGE_DAYS:
            response = await client.get(path, headers=actors.admin.headers,
                                        params={name: value})
            assert field_errors(response) == {name: "date_out_of_range"}, (path, name, value)
        fine = await client.get(path, headers=actors.admin.headers,
                                params={name: "2026-01-01T00:00:00+08:00" if timed
                                        else "2026-01-01"})
        assert fine.status_code == 200, (path, name, fine.text)


def _inputs() -> Iterator[type[Input]]:
    """Every request body (a response reusing a request's fields, ``…Out``, is not one)."""
    for module in pkgutil.iter_modules(app.api.v1.schemas.__path__):
        importlib.import_module(f"{app.api.v1.schemas.__name__}.{module.name}")
    pending = list(Input.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__name__.endswith("Out"):
            yield model


def _edge_for(annotation: Any) -> Any:
    """An out-of-range value of this field's date type (None if it holds no date)."""
    for arg in (annotation, *typing.get_args(annotation)):
        if arg is datetime or (isinstance(arg, type) and issubclass(arg, datetime)):
            return EDGE_INSTANTS[0]
        if arg is date:
            return EDGE_DAYS[0]
        if typing.get_origin(arg) is list:
            inner = _edge_for(typing.get_args(arg)[0])
            return None if inner is None else [inner]
    return None


@pytest.mark.parametrize("model", sorted(set(_inputs()), key=lambda m: m.__qualname__),
                         ids=lambda m: m.__qualname__)
def test_every_date_field_of_every_request_body_is_bounded(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        edge = _edge_for(field.annotation)
        if edge is None:
            continue
        with pytest.raises(ValidationError) as refused:
            model.model_validate({name: edge})
        reasons = {e["type"] for e in refused.value.errors() if e["loc"][0] == name}
        assert reasons == {"date_out_of_range"}, (model.__qualname__, name, reasons)
        numeric = [0] if not isinstance(edge, list) else [[0]]
        with pytest.raises(ValidationError) as refused:
            model.model_validate({name: numeric[0]})
        reasons = {e["type"] for e in refused.value.errors() if e["loc"][0] == name}
        assert reasons == {"date_not_iso"}, (model.__qualname__, name, reasons)


def test_the_bound_is_described_in_the_document(app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["DelegationIn"]["properties"]["ends_at"]
    assert "1900" in str(schema) and "2200" in str(schema), schema
