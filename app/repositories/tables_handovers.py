"""Tables of handovers (客户移交): batches, the handover of one customer, its checklist
items, findings, signatures and stakeholder notifications."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

OPEN_STATES_SQL = "state IN ('draft', 'notified', 'preparing', 'meeting_held', 'signed')"

handover_batches = Table(
    "handover_batches", metadata,
    Column("id", Uuid, primary_key=True),
    Column("from_manager_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("to_manager_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("planned_date", Date),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

handovers = Table(
    "handovers", metadata,
    Column("id", Uuid, primary_key=True),
    Column("batch_id", Uuid, ForeignKey("handover_batches.id")),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("from_manager_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("to_manager_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("planned_date", Date),
    Column("note", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("level_reasons", JSONType, nullable=False),
    Column("likelihood", SmallInteger, nullable=False),
    Column("impact", SmallInteger, nullable=False),
    Column("risk_level", String(16), nullable=False),
    Column("risk_factors", JSONType, nullable=False),
    Column("state", String(16), nullable=False),
    Column("notified_at", UTCDateTime),
    Column("preparation_started_at", UTCDateTime),
    Column("meeting", JSONType),
    Column("meeting_held_at", UTCDateTime),
    Column("signed_at", UTCDateTime),
    Column("transferred_at", UTCDateTime),
    Column("transfer", JSONType),
    Column("follow_up_due", Date),
    Column("follow_up", JSONType),
    Column("followed_up_at", UTCDateTime),
    Column("follow_up_escalated_at", UTCDateTime),
    Column("pulse_due_on", Date),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", Text),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_handovers_updated", handovers.c.updated_at, handovers.c.id)
Index("ix_handovers_department", handovers.c.department_id, handovers.c.updated_at)
Index("ix_handovers_from_manager", handovers.c.from_manager_id)
Index("ix_handovers_to_manager", handovers.c.to_manager_id)
Index("ix_handovers_batch", handovers.c.batch_id)
Index("ix_handovers_follow_up_due", handovers.c.follow_up_due)
# A customer is in at most one handover at a time (a race creating two loses with 409).
Index("ux_handovers_open_customer", handovers.c.customer_id, unique=True,
      sqlite_where=text(OPEN_STATES_SQL), postgresql_where=text(OPEN_STATES_SQL))

handover_items = Table(
    "handover_items", metadata,
    Column("handover_id", Uuid, ForeignKey("handovers.id"), nullable=False),
    Column("key", String(48), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("summary", JSONType, nullable=False),
    Column("handing_over_verified_by", Uuid),
    Column("handing_over_verified_at", UTCDateTime),
    Column("receiving_verified_by", Uuid),
    Column("receiving_verified_at", UTCDateTime),
    PrimaryKeyConstraint("handover_id", "key"),
)

handover_findings = Table(
    "handover_findings", metadata,
    Column("id", Uuid, primary_key=True),
    Column("handover_id", Uuid, ForeignKey("handovers.id"), nullable=False, index=True),
    Column("item_key", String(48), nullable=False),
    Column("raised_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("resolved_by", Uuid),
    Column("resolution", Text),
    Column("resolved_at", UTCDateTime),
)

handover_signatures = Table(
    "handover_signatures", metadata,
    Column("handover_id", Uuid, ForeignKey("handovers.id"), nullable=False),
    Column("role", String(24), nullable=False),
    Column("signer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("on_behalf_of", Uuid),
    Column("signed_at", UTCDateTime, nullable=False),
    # one signature per capacity, even under concurrent requests; a head may give two (as
    # the head and for a departed handing-over manager), so the signer is not unique
    PrimaryKeyConstraint("handover_id", "role"),
)

handover_notifications = Table(
    "handover_notifications", metadata,
    Column("id", Uuid, primary_key=True),
    Column("handover_id", Uuid, ForeignKey("handovers.id"), nullable=False, index=True),
    Column("stakeholder", String(32), nullable=False),
    Column("user_id", Uuid),
    Column("contact_id", Uuid),
    Column("channel", String(16), nullable=False),
    Column("notified_at", UTCDateTime, nullable=False),
    Column("recorded_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("note", Text, nullable=False),
)
