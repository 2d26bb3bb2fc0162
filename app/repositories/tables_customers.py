"""Tables of the customer archive (domain §2)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

AutoId = BigInteger().with_variant(Integer, "sqlite")

customers = Table(
    "customers", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("credit_code", String(18)),
    Column("industry", String(100), nullable=False),
    Column("region", String(100), nullable=False),
    Column("address", String(500), nullable=False),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("shared_with_department", Boolean, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("needs", JSONType, nullable=False),
    Column("preferred_channel", String(16)),
    Column("preferred_time", String(100), nullable=False),
    Column("custom_attributes", JSONType, nullable=False),
    Column("external_refs", JSONType, nullable=False),
    Column("annual_revenue", Numeric(18, 2)),
    Column("currency", String(3), nullable=False),
    Column("strategic_importance", SmallInteger),
    Column("growth_potential", SmallInteger),
    Column("value_score", Numeric(5, 1), nullable=False),
    Column("tier_computed", String(1), nullable=False),
    Column("tier_manual", String(1)),
    Column("tier_manual_reason", Text),
    Column("tier", String(1), nullable=False),  # effective tier, kept for filtering
    Column("stage", String(16), nullable=False),
    Column("churn_reason", String(32)),
    Column("churn_note", Text),
    Column("integrity_score", SmallInteger, nullable=False),
    # Lower-cased name and contact names: what `q` searches (trigram-indexed).
    Column("search_text", Text, nullable=False),
    Column("archived_at", UTCDateTime),
    Column("merged_into", Uuid),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_customers_credit_code", customers.c.credit_code)
Index("ix_customers_updated", customers.c.updated_at, customers.c.id)
Index("ix_customers_created", customers.c.created_at, customers.c.id)
Index("ix_customers_name", customers.c.name, customers.c.id)
Index("ix_customers_owner_updated", customers.c.owner_id, customers.c.updated_at, customers.c.id)
Index("ix_customers_dept_updated", customers.c.department_id, customers.c.updated_at,
      customers.c.id)
Index("ix_customers_tier_updated", customers.c.tier, customers.c.updated_at, customers.c.id)
Index("ix_customers_stage_updated", customers.c.stage, customers.c.updated_at, customers.c.id)
Index("ix_customers_integrity", customers.c.integrity_score, customers.c.id)
# The customer and account-manager reports read every live customer: this covers what they
# read (scope, dimensions, the id they join health on), so the pass is an index-only scan.
LIVE_SQL = "archived_at IS NULL AND merged_into IS NULL"
Index("ix_customers_report", customers.c.department_id, customers.c.owner_id,
      customers.c.tier, customers.c.stage, customers.c.integrity_score,
      customers.c.shared_with_department, customers.c.id,
      sqlite_where=text(LIVE_SQL), postgresql_where=text(LIVE_SQL))

customer_tags = Table(
    "customer_tags", metadata,
    Column("customer_id", Uuid, ForeignKey("customers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag", String(50), primary_key=True),
)
Index("ix_customer_tags_tag", customer_tags.c.tag, customer_tags.c.customer_id)

customer_external_refs = Table(
    "customer_external_refs", metadata,
    Column("system", String(32), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
           index=True),
)

contacts = Table(
    "contacts", metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("title", String(100), nullable=False),
    Column("phones", JSONType, nullable=False),
    Column("emails", JSONType, nullable=False),
    Column("im_handle", String(100), nullable=False),
    Column("preferred_channel", String(16)),
    Column("is_primary", Boolean, nullable=False),
    Column("erased_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Normalised phones and e-mails of live contacts, for duplicate detection.
contact_points = Table(
    "contact_points", metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("value", String(254), nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", Uuid, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False,
           index=True),
)
Index("ix_contact_points_value", contact_points.c.kind, contact_points.c.value)

customer_history = Table(
    "customer_history", metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("customer_id", Uuid, nullable=False),
    Column("contact_id", Uuid),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("actor_id", String(64)),
    Column("action", String(100), nullable=False),
    Column("field", String(100), nullable=False),
    Column("old", JSONType),
    Column("new", JSONType),
    Column("request_id", String(128)),
    Column("redacted", Boolean, nullable=False),
)
Index("ix_customer_history_customer", customer_history.c.customer_id,
      customer_history.c.occurred_at, customer_history.c.id)
Index("ix_customer_history_contact", customer_history.c.contact_id)

# The timeline read model: one row per domain event that concerns a customer, whichever
# feature emitted it (written by the unit of work with the outbox row).
customer_timeline = Table(
    "customer_timeline", metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("customer_id", Uuid, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("type", String(100), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("actor_id", String(64)),
    Column("data", JSONType, nullable=False),
)
Index("ix_customer_timeline_customer", customer_timeline.c.customer_id,
      customer_timeline.c.occurred_at, customer_timeline.c.id)
# the reports' churn (stage changes) per period
Index("ix_customer_timeline_type_time", customer_timeline.c.type,
      customer_timeline.c.occurred_at)
