"""Tables of staff training (员工培训): courses, sessions and one row per attendee's result
(a passed result is a completion, with the last day it counts)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

training_courses = Table(
    "training_courses", metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("topic", String(50), nullable=False),
    Column("material_ids", JSONType, nullable=False),
    Column("validity_months", SmallInteger, nullable=False),
    Column("pass_mark", Numeric(5, 2)),
    Column("department_id", Uuid, ForeignKey("departments.id")),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_training_courses_title", training_courses.c.title, training_courses.c.id)
Index("ix_training_courses_created", training_courses.c.created_at, training_courses.c.id)

training_sessions = Table(
    "training_sessions", metadata,
    Column("id", Uuid, primary_key=True),
    Column("course_id", Uuid, ForeignKey("training_courses.id"), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("trainer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_training_sessions_course", training_sessions.c.course_id, training_sessions.c.held_on)

training_results = Table(
    "training_results", metadata,
    Column("id", Uuid, primary_key=True),
    Column("session_id", Uuid, ForeignKey("training_sessions.id", ondelete="CASCADE"),
           nullable=False),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("course_id", Uuid, ForeignKey("training_courses.id"), nullable=False),
    Column("attended", Boolean, nullable=False),
    Column("score", Numeric(5, 2)),
    Column("passed", Boolean, nullable=False),
    Column("completed_on", Date, nullable=False),  # the session's day
    Column("valid_through", Date),  # passed results only
    Column("reminded_at", UTCDateTime),  # the reminder before it lapses was sent
    Column("lapse_announced_at", UTCDateTime),  # training.lapsed was announced
    UniqueConstraint("session_id", "user_id", name="uq_training_results_attendee"),
)
Index("ix_training_results_user", training_results.c.user_id, training_results.c.course_id)
Index("ix_training_results_valid", training_results.c.valid_through, training_results.c.id)
