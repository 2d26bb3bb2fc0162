"""Tables of change requests (变更管理): the request, its assessment panel, approval steps,
implementation tasks, progress, customer communications, delegations."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

change_requests = Table(
    "change_requests", metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),  # the customer's owner
    Column("requester_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("expected_effect", Text, nullable=False),
    Column("category", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("requested_completion_date", Date),
    Column("attachments", JSONType, nullable=False),
    Column("state", String(24), nullable=False),
    Column("round", Integer, nullable=False),  # +1 each time it is resubmitted
    # the concluded assessment (final estimates)
    Column("estimated_cost", Numeric(18, 2)),
    Column("currency", String(3), nullable=False),
    Column("estimated_schedule_days", Integer),
    Column("likelihood", SmallInteger),
    Column("impact", SmallInteger),
    Column("risk_level", String(16)),
    Column("recommendation", String(16)),
    Column("assessment_summary", Text),
    Column("concluded_by", Uuid),
    Column("concluded_at", UTCDateTime),
    # review (变更评估和反馈)
    Column("goals_met", String(8)),
    Column("actual_cost", Numeric(18, 2)),
    Column("actual_schedule_days", Integer),
    Column("customer_satisfaction", SmallInteger),
    Column("lessons_learned", Text),
    Column("reviewed_by", Uuid),
    Column("reviewed_at", UTCDateTime),
    Column("emergency_reviewed_by", Uuid),
    Column("emergency_reviewed_at", UTCDateTime),
    Column("knowledge_article_id", Uuid),
    Column("implemented_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_change_requests_updated", change_requests.c.updated_at, change_requests.c.id)
Index("ix_change_requests_dept_updated", change_requests.c.department_id,
      change_requests.c.updated_at, change_requests.c.id)
Index("ix_change_requests_owner_updated", change_requests.c.owner_id,
      change_requests.c.updated_at, change_requests.c.id)
Index("ix_change_requests_customer", change_requests.c.customer_id)
Index("ix_change_requests_state", change_requests.c.state, change_requests.c.updated_at)
# the reports' period (created) and department filters
Index("ix_change_requests_dept_created", change_requests.c.department_id,
      change_requests.c.created_at)
Index("ix_change_requests_created", change_requests.c.created_at)

cr_assessments = Table(
    "cr_assessments", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("assessor_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("assessor_role", String(32), nullable=False),
    Column("necessity", SmallInteger, nullable=False),
    Column("feasibility", SmallInteger, nullable=False),
    Column("scope_impact", Text, nullable=False),
    Column("schedule_days", Integer, nullable=False),
    Column("cost", Numeric(18, 2), nullable=False),
    Column("resources", Text, nullable=False),
    Column("likelihood", SmallInteger, nullable=False),
    Column("impact", SmallInteger, nullable=False),
    Column("recommendation", String(16), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("change_request_id", "round", "assessor_id",
                     name="uq_cr_assessments_one_per_assessor"),
)

cr_customer_inputs = Table(
    "cr_customer_inputs", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False,
           index=True),
    Column("round", Integer, nullable=False),
    Column("contact_id", Uuid, ForeignKey("contacts.id"), nullable=False),
    Column("opinion", Text, nullable=False),
    Column("recorded_by", Uuid, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

cr_approval_steps = Table(
    "cr_approval_steps", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("role", String(32), nullable=False),
    Column("department_id", Uuid),
    Column("due_at", UTCDateTime),  # set when the step becomes current
    Column("status", String(16), nullable=False),
    Column("decided_by", Uuid),
    Column("decided_at", UTCDateTime),
    Column("on_behalf_of", Uuid),
    Column("comment", Text, nullable=False),
    Column("escalated_at", UTCDateTime),  # when its overdue escalation event was raised
    Column("started_at", UTCDateTime),  # when it became current (its lead time's start)
    UniqueConstraint("change_request_id", "round", "position",
                     name="uq_cr_approval_steps_position"),
)
Index("ix_cr_approval_steps_pending", cr_approval_steps.c.status, cr_approval_steps.c.due_at)

# What the change-request report measures, one narrow row per approval step (``position``
# ≥ 1: its role, start, decision and status) and per round (``position`` 0, role
# "end_to_end": its first step's start, its last decision, and its outcome — rejected or
# returned if a step was, else pending while a step is, else approved), with the change's
# creation, department and owner beside them, so the report filters and measures without
# joining steps to changes or grouping them. Kept by database triggers (migration
# 0020_report_rounds) on ``cr_approval_steps`` and ``change_requests``, whoever writes them.
# Instants, not working hours, are stored: the business calendar can change, and the report
# measures with today's.
cr_approval_times = Table(
    "cr_approval_times", metadata,
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("role", String(32), nullable=False),
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),  # the change's
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("outcome", String(16), nullable=False),
)
Index("ix_cr_approval_times_created", cr_approval_times.c.created_at)
Index("ix_cr_approval_times_dept_created", cr_approval_times.c.department_id,
      cr_approval_times.c.created_at)

cr_tasks = Table(
    "cr_tasks", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False,
           index=True),
    Column("title", String(200), nullable=False),
    Column("assignee_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("due_date", Date),
    Column("status", String(16), nullable=False),
    Column("waive_reason", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

cr_progress = Table(
    "cr_progress", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False,
           index=True),
    Column("percent", SmallInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("author_id", Uuid, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

cr_communications = Table(
    "cr_communications", metadata,
    Column("id", Uuid, primary_key=True),
    Column("change_request_id", Uuid, ForeignKey("change_requests.id"), nullable=False,
           index=True),
    Column("contact_id", Uuid, ForeignKey("contacts.id")),
    Column("channel", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("author_id", Uuid, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

delegations = Table(
    "delegations", metadata,
    Column("id", Uuid, primary_key=True),
    Column("delegator_id", Uuid, ForeignKey("users.id"), nullable=False, index=True),
    Column("deputy_id", Uuid, ForeignKey("users.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", Uuid, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
