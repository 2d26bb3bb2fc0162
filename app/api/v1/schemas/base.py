"""Base models: requests reject unknown fields; responses state every field. And the date
types every request field and query parameter uses."""

import dataclasses
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_type_hints

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.api.query import contains_nul

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
_NUMBER = re.compile(r"^\s*[+-]?\d+(\.\d*)?\s*$")
D = TypeVar("D", bound=date)


def _iso_text(value: Any) -> Any:
    """Pydantic reads a number as a Unix timestamp (``0`` is 1970-01-01): refuse it."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise PydanticCustomError("date_not_iso", "must be written in ISO 8601")
    return value


def _within_years(value: D) -> D:
    """Bounded by the year as written, before any conversion to UTC: a time zone applied to
    9999-12-31 or 0001-01-01 would overflow what Python and the databases can hold."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError("date_out_of_range",
                                  "the year must be from {earliest} to {latest}",
                                  {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR})
    return value


_YEARS = f"years {EARLIEST_YEAR}–{LATEST_YEAR}"
Day = Annotated[date, BeforeValidator(_iso_text), AfterValidator(_within_years),
                Field(description=f"ISO 8601 date (YYYY-MM-DD), {_YEARS}")]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_within_years),
                    Field(description="ISO 8601 date and time with a time zone (e.g. "
                                      f"2026-03-01T09:00:00+08:00), {_YEARS}")]


# Answers: one format per kind of number, whether the answer is to a write (built from the
# values sent) or to a read (from the database).
CENT = Decimal("0.01")
Amount = Annotated[Decimal, PlainSerializer(lambda v: str(v.quantize(CENT)), return_type=str),
                   Field(description="An amount of money, always with two decimals "
                                     "(\"120000.00\")")]
Figure = Annotated[float, PlainSerializer(lambda v: round(v, 2), return_type=float),
                   Field(description="Rounded to two decimals")]
Share = Annotated[float, PlainSerializer(lambda v: round(v, 3), return_type=float),
                  Field(description="A share from 0 to 1, rounded to three decimals")]


class Input(BaseModel):
    """A request body. Unknown fields (including server-owned ones such as ``version``,
    ``status`` or ``created_at``) are a 422, never silently ignored; so is U+0000 in any
    text, which PostgreSQL cannot store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise PydanticCustomError("string_nul", "must not contain NUL characters")
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def output_of(record: type, name: str, **fields: Any) -> type[Output]:
    """The answer that shows the domain dataclass ``record`` as it is: its fields with
    their names, types and order, every one stated, so the answer cannot drift from the
    record. ``fields`` (``name=(type, Field(...))``) replace or add fields where the
    answer says more. The record itself is validated from its attributes."""
    hints = get_type_hints(record)
    stated: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(record)}
    return create_model(name, __base__=Output, **{**stated, **fields})


class JobOut(Output):  # what a scheduler's run did
    count: int = Field(description="Events announced by this run")
