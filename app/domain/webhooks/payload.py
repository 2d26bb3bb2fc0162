"""The body of a delivery (Standard Webhooks): ``{"type", "timestamp", "data"}``, fixed when
the delivery is staged so every retry and redelivery sends the same bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

PING = "webhook.ping"


def body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    timestamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": dict(data)},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def event_data(event_id: str, entity_type: str, entity_id: str,
               data: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox event's data with the record it is about (those keys win a clash)."""
    return {**data, "event_id": event_id, "entity_type": entity_type, "entity_id": entity_id}
