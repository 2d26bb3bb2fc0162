"""The one rule by which a recorded change's data (audit before/after, event data)
becomes JSON, whichever feature records it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def json_value(value: Any) -> Any:
    """UUID and Decimal → their text, datetime/date/time → ISO 8601, an enum → its value,
    None → null (never the text "None"); mappings and sequences element by element (a
    set sorted, so the same data always reads the same). Anything else is a mistake."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(json_value(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_value(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    raise TypeError(f"no JSON form for a recorded {type(value).__name__}: {value!r}")


def json_object(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else json_value(data)
