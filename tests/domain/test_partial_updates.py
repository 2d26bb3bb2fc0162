"""One rule for partial updates: what was not sent stays as it was; ``fields_set`` names
what was sent and is never copied as a field."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.common.partial import filled_in, sent_values, taking


@dataclass(frozen=True)
class Input:
    name: str = ""
    region: str = ""
    tags: list[str] = field(default_factory=list)
    fields_set: frozenset[str] = frozenset()


@dataclass
class Record:
    id: int
    name: str
    region: str
    tags: list[str]
    version: int


CURRENT = Record(7, "上海银行", "华东", ["bank"], 3)


def test_sent_values_are_exactly_the_fields_sent() -> None:
    patch = Input(name="浦发银行", region="", fields_set=frozenset({"name"}))
    assert sent_values(patch) == {"name": "浦发银行"}
    assert sent_values(Input()) == {}


def test_fields_not_sent_are_taken_from_the_record() -> None:
    patch = Input(name="浦发银行", fields_set=frozenset({"name"}))
    whole = filled_in(patch, CURRENT, patch.fields_set)
    assert (whole.name, whole.region, whole.tags) == ("浦发银行", "华东", ["bank"])
    assert whole.fields_set == patch.fields_set  # still says what was sent


def test_a_field_sent_empty_stays_empty() -> None:
    patch = Input(region="", fields_set=frozenset({"region"}))
    assert filled_in(patch, CURRENT, patch.fields_set).region == ""


def test_a_record_takes_every_field_of_the_input_and_keeps_its_own() -> None:
    changed = taking(CURRENT, Input(name="浦发银行", region="华北", tags=[]))
    assert changed == Record(7, "浦发银行", "华北", [], 3)
    assert CURRENT.name == "上海银行"  # the record read is not changed in place
