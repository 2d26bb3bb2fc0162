"""The risk register's table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import UTCDateTime

risks = Table(
    "risks", metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id")),
    Column("change_request_id", Uuid),
    Column("handover_id", Uuid),
    Column("plan_id", Uuid),
    Column("likelihood", SmallInteger, nullable=False),
    Column("impact", SmallInteger, nullable=False),
    Column("level", SmallInteger, nullable=False),  # RiskLevel value, so it sorts
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("mitigation", Text, nullable=False),
    Column("contingency_plan", Text, nullable=False),
    Column("early_warning", Text, nullable=False),
    Column("next_review_date", Date),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
)
Index("ix_risks_department_updated", risks.c.department_id, risks.c.updated_at, risks.c.id)
Index("ix_risks_owner_updated", risks.c.owner_id, risks.c.updated_at, risks.c.id)
Index("ix_risks_customer", risks.c.customer_id)
Index("ix_risks_status_level", risks.c.status, risks.c.level)
Index("ix_risks_updated", risks.c.updated_at, risks.c.id)
