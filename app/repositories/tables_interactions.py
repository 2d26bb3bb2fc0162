"""Tables of customer interactions and of the contact schedule (the next contact due per
customer, kept so that ``GET /customers?contact_overdue=true`` is one indexed filter)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, Uuid

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

customer_interactions = Table(
    "customer_interactions", metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("participants", JSONType, nullable=False),
    Column("contact_ids", JSONType, nullable=False),
    Column("summary", Text, nullable=False),
    Column("next_step", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_customer_interactions_customer", customer_interactions.c.customer_id,
      customer_interactions.c.occurred_at, customer_interactions.c.id)

contact_schedules = Table(
    "contact_schedules", metadata,
    Column("customer_id", Uuid, ForeignKey("customers.id"), primary_key=True),
    Column("last_contact_at", UTCDateTime, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("announced_due_on", Date),
)
Index("ix_contact_schedules_due", contact_schedules.c.due_on)

# The next contacts due of live customers (not archived, not merged away) counted per
# owner, department and due date, kept by triggers on contact_schedules and customers
# (migration 0022_report_plans) so that the account-manager report's overdue contacts read
# a few thousand counts instead of joining every customer. Written only by those triggers.
contact_due_counts = Table(
    "contact_due_counts", metadata,
    Column("owner_id", Uuid, primary_key=True),
    Column("department_id", Uuid, primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("n", Integer, nullable=False),
)
Index("ix_contact_due_counts_department", contact_due_counts.c.department_id,
      contact_due_counts.c.due_on)
