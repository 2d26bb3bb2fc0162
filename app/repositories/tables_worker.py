"""Tables of the worker: webhook endpoints, their deliveries and the log of attempts, the
leases that keep a periodic job to one worker at a time, and the workers' heartbeats."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", Uuid, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=False),
    Column("event_types", JSONType, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("secret_sealed", String(400), nullable=False),
    Column("previous_secret_sealed", String(400)),
    Column("previous_secret_expires_at", UTCDateTime),
    Column("failing_since", UTCDateTime),
    Column("disabled_reason", String(20)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("created_by", Uuid),
    Column("version", Integer, nullable=False),
)
Index("ix_webhook_endpoints_created", webhook_endpoints.c.created_at, webhook_endpoints.c.id)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Uuid, primary_key=True),
    Column("endpoint_id", Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
           nullable=False),
    Column("event_id", Uuid),
    Column("event_type", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_attempt_at", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    Column("last_status_code", Integer),
)
# The dispatcher's claim: pending deliveries that are due, oldest first.
Index("ix_webhook_deliveries_due", webhook_deliveries.c.state,
      webhook_deliveries.c.next_attempt_at)
Index("ix_webhook_deliveries_endpoint", webhook_deliveries.c.endpoint_id)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
           nullable=False),
    Column("endpoint_id", Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
           nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("number", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", String(200)),
    Column("response_body", Text),
)
Index("ix_webhook_attempts_endpoint", webhook_attempts.c.endpoint_id,
      webhook_attempts.c.attempted_at, webhook_attempts.c.id)
Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id)
# the prune job's reach: attempts older than the retention, found without reading the log
Index("ix_webhook_attempts_time", webhook_attempts.c.attempted_at)

job_leases = Table(
    "job_leases", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200)),
    Column("leased_until", UTCDateTime),
    Column("last_started_at", UTCDateTime),
    Column("last_finished_at", UTCDateTime),
    Column("last_outcome", String(20)),
    Column("last_count", Integer),
    Column("runs", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
)

worker_heartbeats = Table(
    "worker_heartbeats", metadata,
    Column("worker_id", String(200), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)
