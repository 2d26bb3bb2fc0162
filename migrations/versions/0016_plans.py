"""Customer plans (客户方案): plans with their parts and expectations, baseline revisions,
the amendments attached to change requests, progress reports; customer interactions and
the contact schedule (沟通及时 · 回访).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.repositories.types import JSONType, UTCDateTime

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scope_statement", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("team", JSONType, nullable=False),
        sa.Column("constraints", JSONType, nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("objectives", JSONType, nullable=False),
        sa.Column("milestones", JSONType, nullable=False),
        sa.Column("budget_lines", JSONType, nullable=False),
        sa.Column("expectations", JSONType, nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("activated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_plans_customer_id_customers")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_plans_department_id_departments")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_plans_owner_id_users")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_plans_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index("ix_plans_customer", "plans", ["customer_id", "state"])
    op.create_index("ix_plans_owner", "plans", ["owner_id", "state"])
    op.create_index("ix_plans_updated", "plans", ["updated_at", "id"])
    op.create_table(
        "plan_revisions",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", JSONType, nullable=False),
        sa.Column("summary", JSONType, nullable=False),
        sa.Column("change_request_id", sa.Uuid(), nullable=True),
        sa.Column("amendment_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"],
                                name=op.f("fk_plan_revisions_plan_id_plans")),
        sa.ForeignKeyConstraint(["change_request_id"], ["change_requests.id"],
                                name=op.f("fk_plan_revisions_change_request_id_change_requests")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_plan_revisions_created_by_users")),
        sa.PrimaryKeyConstraint("plan_id", "number", name=op.f("pk_plan_revisions")),
    )
    op.create_table(
        "plan_amendments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("change_request_id", sa.Uuid(), nullable=False),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.Uuid(), nullable=True),
        sa.Column("applied_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"],
                                name=op.f("fk_plan_amendments_plan_id_plans")),
        sa.ForeignKeyConstraint(["change_request_id"], ["change_requests.id"],
                                name=op.f("fk_plan_amendments_change_request_id_change_requests")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_plan_amendments_created_by_users")),
        sa.ForeignKeyConstraint(["applied_by"], ["users.id"],
                                name=op.f("fk_plan_amendments_applied_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_amendments")),
        sa.UniqueConstraint("change_request_id", name="uq_plan_amendments_change_request_id"),
    )
    op.create_index("ix_plan_amendments_plan", "plan_amendments", ["plan_id"])
    op.create_table(
        "plan_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("completed_work", sa.Text(), nullable=False),
        sa.Column("issues", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("milestone_status", JSONType, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("share_token_hash", sa.String(length=64), nullable=True),
        sa.Column("share_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("share_revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("shared_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"],
                                name=op.f("fk_plan_reports_plan_id_plans")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_plan_reports_customer_id_customers")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_plan_reports_created_by_users")),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"],
                                name=op.f("fk_plan_reports_published_by_users")),
        sa.ForeignKeyConstraint(["shared_by"], ["users.id"],
                                name=op.f("fk_plan_reports_shared_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reports")),
        sa.UniqueConstraint("share_token_hash", name=op.f("uq_plan_reports_share_token_hash")),
    )
    op.create_index("ix_plan_reports_plan", "plan_reports", ["plan_id", "created_at", "id"])
    op.create_table(
        "customer_interactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("participants", JSONType, nullable=False),
        sa.Column("contact_ids", JSONType, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_interactions_customer_id_customers")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name=op.f("fk_customer_interactions_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_interactions")),
    )
    op.create_index("ix_customer_interactions_customer", "customer_interactions",
                    ["customer_id", "occurred_at", "id"])
    op.create_table(
        "contact_schedules",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("last_contact_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("announced_due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_contact_schedules_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_contact_schedules")),
    )
    op.create_index("ix_contact_schedules_due", "contact_schedules", ["due_on"])


def downgrade() -> None:
    op.drop_index("ix_contact_schedules_due", table_name="contact_schedules")
    op.drop_table("contact_schedules")
    op.drop_index("ix_customer_interactions_customer", table_name="customer_interactions")
    op.drop_table("customer_interactions")
    op.drop_index("ix_plan_reports_plan", table_name="plan_reports")
    op.drop_table("plan_reports")
    op.drop_index("ix_plan_amendments_plan", table_name="plan_amendments")
    op.drop_table("plan_amendments")
    op.drop_table("plan_revisions")
    op.drop_index("ix_plans_updated", table_name="plans")
    op.drop_index("ix_plans_owner", table_name="plans")
    op.drop_index("ix_plans_customer", table_name="plans")
    op.drop_table("plans")
