"""Answers that show a domain record as it is are built from the record's own fields
(``output_of``): a field added to the record is in the answer and the document, and the
answer validates the record itself, not a hand-written mapping of it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import Field, ValidationError

from app.api.v1.schemas.audit import AuditEntryOut
from app.api.v1.schemas.base import output_of
from app.api.v1.schemas.change_requests import TaskOut
from app.api.v1.schemas.customers import HistoryOut, TimelineOut
from app.api.v1.schemas.people import DepartmentOut
from app.domain.access.users import Department
from app.domain.audit.chain import AuditRecord
from app.domain.change_requests.model import Task
from app.services.ports.customers import HistoryEntry, TimelineEntry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclasses.dataclass
class Parcel:
    id: uuid.UUID
    label: str
    weight: int = 0  # a default in the record is no default in the answer
    sent_on: date | None = None


@pytest.mark.parametrize(("answer", "record"), [
    (AuditEntryOut, AuditRecord), (HistoryOut, HistoryEntry), (TimelineOut, TimelineEntry),
    (TaskOut, Task), (DepartmentOut, Department)])
def test_each_answer_states_its_records_fields_in_order(answer: Any, record: type) -> None:
    assert answer.model_json_schema()["title"] == answer.__name__
    assert list(answer.model_fields) == [f.name for f in dataclasses.fields(record)]
    assert all(f.is_required() for f in answer.model_fields.values())


def test_a_record_becomes_its_answer_from_its_attributes() -> None:
    department = Department(uuid.uuid4(), "华东大区", "", True, 3, NOW, NOW)
    shown = DepartmentOut.model_validate(department).model_dump()
    assert shown == dataclasses.asdict(department)


def test_every_field_is_stated_and_typed_as_the_record_declares() -> None:
    answer = output_of(Parcel, "ParcelOut")
    schema = answer.model_json_schema()
    assert schema["title"] == "ParcelOut"
    assert schema["required"] == ["id", "label", "weight", "sent_on"]
    assert "default" not in schema["properties"]["weight"]
    with pytest.raises(ValidationError):
        answer.model_validate({"id": uuid.uuid4(), "label": "x", "sent_on": None})
    with pytest.raises(ValidationError):
        answer.model_validate(Parcel(uuid.uuid4(), "x", weight="heavy"))  # type: ignore[arg-type]


def test_an_answer_may_say_more_than_its_record() -> None:
    answer = output_of(Parcel, "ParcelOut", weight=(float, Field(description="kilograms")),
                       tracked=(bool, ...))
    assert list(answer.model_fields) == ["id", "label", "weight", "sent_on", "tracked"]
    schema = answer.model_json_schema()
    assert schema["properties"]["weight"] == {"description": "kilograms", "title": "Weight",
                                              "type": "number"}
    assert schema["required"] == ["id", "label", "weight", "sent_on", "tracked"]
