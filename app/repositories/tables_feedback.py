"""Tables of the feedback loop and satisfaction surveys (反馈 · 满意度): feedback items,
survey templates, invitations (only the hash of a token is stored), responses and their
scored answers."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
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
from app.repositories.types import JSONType, UTCDateTime

feedback_items = Table(
    "feedback_items", metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("type", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("change_request_id", Uuid),
    Column("plan_id", Uuid),
    Column("handover_id", Uuid),
    Column("state", String(16), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("acknowledge_due_at", UTCDateTime, nullable=False),
    Column("resolve_due_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("resolution", Text, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("confirmation", JSONType),
    Column("reopened_at", UTCDateTime),
    Column("reopen_count", Integer, nullable=False),
    Column("acknowledge_breached_at", UTCDateTime),  # when the breach was announced
    Column("resolve_breached_at", UTCDateTime),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_feedback_items_updated", feedback_items.c.updated_at, feedback_items.c.id)
Index("ix_feedback_items_department", feedback_items.c.department_id,
      feedback_items.c.updated_at, feedback_items.c.id)
Index("ix_feedback_items_owner", feedback_items.c.owner_id, feedback_items.c.updated_at,
      feedback_items.c.id)
Index("ix_feedback_items_customer", feedback_items.c.customer_id, feedback_items.c.state)
Index("ix_feedback_items_state_due", feedback_items.c.state, feedback_items.c.resolve_due_at)
Index("ix_feedback_items_received", feedback_items.c.received_at)
# the account-manager report's feedback SLA figures for one department: an index-only scan
# of the period's items (PostgreSQL; SQLite has no INCLUDE and reads the rows)
Index("ix_feedback_items_dept_received", feedback_items.c.department_id,
      feedback_items.c.received_at,
      postgresql_include=["owner_id", "acknowledged_at", "acknowledge_due_at", "resolved_at",
                          "resolve_due_at"])

survey_templates = Table(
    "survey_templates", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("questions", JSONType, nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime),
    Column("version", Integer, nullable=False),
)

survey_invitations = Table(
    "survey_invitations", metadata,
    Column("id", Uuid, primary_key=True),
    Column("template_id", Uuid, ForeignKey("survey_templates.id"), nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("source_id", Uuid),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_by", Uuid),
    Column("created_at", UTCDateTime, nullable=False),
    Column("responded_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)
Index("ix_survey_invitations_template", survey_invitations.c.template_id,
      survey_invitations.c.created_at)
Index("ix_survey_invitations_customer", survey_invitations.c.customer_id)
# An automatic trigger invites once per source (a closed change, a handover's pulse).
Index("ux_survey_invitations_source", survey_invitations.c.trigger,
      survey_invitations.c.source_id, survey_invitations.c.contact_id, unique=True)

survey_responses = Table(
    "survey_responses", metadata,
    Column("id", Uuid, primary_key=True),
    Column("invitation_id", Uuid, ForeignKey("survey_invitations.id"), nullable=False,
           unique=True),
    Column("template_id", Uuid, ForeignKey("survey_templates.id"), nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("answers", JSONType, nullable=False),
)

# One row per scored answer, with the segment it counts in: department and owner as at the
# invitation (whose manager asked), the tier as at the answer.
survey_scores = Table(
    "survey_scores", metadata,
    Column("response_id", Uuid, ForeignKey("survey_responses.id"), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("value", SmallInteger, nullable=False),
    Column("template_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("tier", String(1), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
)
Index("ix_survey_scores_kind_time", survey_scores.c.kind, survey_scores.c.submitted_at)
Index("ix_survey_scores_customer", survey_scores.c.customer_id, survey_scores.c.submitted_at)

# The last health computed per customer, so that falling below the threshold is announced
# once, when it happens, not on every check.
customer_health = Table(
    "customer_health", metadata,
    Column("customer_id", Uuid, ForeignKey("customers.id"), primary_key=True),
    Column("score", Integer, nullable=False),  # tenths of a point
    Column("below_threshold", Boolean, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
)
