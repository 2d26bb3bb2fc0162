"""Tables of customer plans: the plan (its objectives, milestones, budget and team are
parts of one aggregate, versioned together, so they are JSON on its row), the baseline's
revisions, and the amendments attached to change requests."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

plans = Table(
    "plans", metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("scope_statement", Text, nullable=False),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("team", JSONType, nullable=False),
    Column("constraints", JSONType, nullable=False),
    Column("planned_start", Date),
    Column("planned_end", Date),
    Column("state", String(16), nullable=False),
    Column("objectives", JSONType, nullable=False),
    Column("milestones", JSONType, nullable=False),
    Column("budget_lines", JSONType, nullable=False),
    Column("expectations", JSONType),  # the expectations register; null: none yet
    Column("revision", Integer),
    Column("activated_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("cancel_reason", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the customer's department now (``department_id`` is the one the plan was made in),
    # kept by triggers (migration 0022_report_plans) so that reports scope plans without
    # joining every customer; written only by those triggers
    Column("scope_department_id", Uuid),
)
Index("ix_plans_customer", plans.c.customer_id, plans.c.state)
Index("ix_plans_scope_department", plans.c.scope_department_id, plans.c.state)
Index("ix_plans_owner", plans.c.owner_id, plans.c.state)
Index("ix_plans_updated", plans.c.updated_at, plans.c.id)

plan_revisions = Table(
    "plan_revisions", metadata,
    Column("plan_id", Uuid, ForeignKey("plans.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("content", JSONType, nullable=False),
    Column("summary", JSONType, nullable=False),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id")),
    Column("amendment_id", Uuid),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

plan_amendments = Table(
    "plan_amendments", metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, ForeignKey("plans.id"), nullable=False),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False),
    Column("changes", JSONType, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("applied_by", Uuid, ForeignKey("users.id")),
    Column("applied_at", UTCDateTime),
    Column("revision", Integer),
    # One amendment per change request: what was approved is one change of one plan.
    UniqueConstraint("change_request_id", name="uq_plan_amendments_change_request_id"),
)
Index("ix_plan_amendments_plan", plan_amendments.c.plan_id)

plan_reports = Table(
    "plan_reports", metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, ForeignKey("plans.id"), nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("completed_work", Text, nullable=False),
    Column("issues", Text, nullable=False),
    Column("next_steps", Text, nullable=False),
    Column("internal_notes", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("milestone_status", JSONType),
    Column("version", Integer, nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    Column("published_by", Uuid, ForeignKey("users.id")),
    Column("share_token_hash", String(64), unique=True),  # only the hash: the token is shown once
    Column("share_expires_at", UTCDateTime),
    Column("share_revoked_at", UTCDateTime),
    Column("shared_by", Uuid, ForeignKey("users.id")),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(100), nullable=False),
)
Index("ix_plan_reports_plan", plan_reports.c.plan_id, plan_reports.c.created_at,
      plan_reports.c.id)
