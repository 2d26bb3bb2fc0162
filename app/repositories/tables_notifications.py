"""Tables of notifications, their preferences, the e-mail outbox and sent reminders."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

notifications = Table(
    "notifications", metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("path", String(200), nullable=False),
    Column("details", JSONType, nullable=False),
    Column("event_id", Uuid),  # the outbox event it came from
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
)
Index("ix_notifications_user", notifications.c.user_id, notifications.c.created_at,
      notifications.c.id)
Index("ix_notifications_user_unread", notifications.c.user_id, notifications.c.read_at,
      notifications.c.created_at)

notification_preferences = Table(
    "notification_preferences", metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("email", Boolean, nullable=False),
    Column("language", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

email_outbox = Table(
    "email_outbox", metadata,
    Column("id", Uuid, primary_key=True),
    Column("to_address", String(320), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("language", String(8), nullable=False),
    Column("context", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),  # None once sent or given up
    Column("sent_at", UTCDateTime),
    Column("failed_at", UTCDateTime),  # given up
    Column("last_error", String(500)),
)
Index("ix_email_outbox_due", email_outbox.c.next_attempt_at)

reminders_sent = Table(
    "reminders_sent", metadata,
    Column("kind", String(40), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("due", String(40), nullable=False),  # the due time (or day) reminded of
    Column("sent_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("kind", "record_id", "due"),
)
