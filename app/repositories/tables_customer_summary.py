"""The customers counted ahead of the reports (issue 18): the customer and
account-manager reports sum these few thousand rows instead of reading every customer
and joining each to its health, or every customer created and churned in the period.

Keyed by what record scope reads (department, owner, shared with the department), so a
report sums only the rows its caller may read, and by what the reports count. Health is a
table of its own, because its score (tenths, 0–1000) crossed with integrity (0–100) would
be nearly one row per customer. Rows whose count has fallen to zero are kept (the
reports skip them).

New customers and churn events are counted per UTC day: the reporting period is made of
whole UTC days (``app.api.period``), so a period's figures are sums of whole days.

Database triggers (migration 0021_customer_summary) keep them all up to date in the
transaction that changes ``customers`` or ``customer_health``, whatever the path: use
cases, merge, erasure, import, set-based SQL. ``app.repositories.customer_summary``
recomputes them from scratch (a load that bypassed the triggers)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
)

from app.repositories.tables import metadata

customer_summary = Table(
    "customer_summary", metadata,
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("shared_with_department", Boolean, nullable=False),
    Column("tier", String(1), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("integrity_score", SmallInteger, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("department_id", "owner_id", "shared_with_department", "tier",
                         "stage", "integrity_score"),
)

customer_health_summary = Table(
    "customer_health_summary", metadata,
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("shared_with_department", Boolean, nullable=False),
    Column("score", Integer, nullable=False),  # tenths of a point, as customer_health
    Column("below_threshold", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("department_id", "owner_id", "shared_with_department", "score",
                         "below_threshold"),
)

customer_new_days = Table(  # customers not merged away, by the UTC day they were created
    "customer_new_days", metadata,
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("shared_with_department", Boolean, nullable=False),
    Column("day", Date, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("department_id", "owner_id", "shared_with_department", "day"),
)

customer_churn_days = Table(  # the timeline's stage changes to churned, by UTC day
    "customer_churn_days", metadata,
    Column("department_id", Uuid, nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("shared_with_department", Boolean, nullable=False),
    Column("day", Date, nullable=False),
    Column("reason", String(32), nullable=False),  # '' when the event names none
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("department_id", "owner_id", "shared_with_department", "day",
                         "reason"),
)
