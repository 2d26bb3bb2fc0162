"""Base models: requests reject unknown fields; responses state every field."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.api.query import contains_nul


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


class JobOut(Output):  # what a scheduler's run did
    count: int = Field(description="Events announced by this run")
