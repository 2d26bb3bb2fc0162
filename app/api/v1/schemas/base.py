"""Base models: requests reject unknown fields; responses state every field."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body. Unknown fields (including server-owned ones such as ``version``,
    ``status`` or ``created_at``) are a 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)
