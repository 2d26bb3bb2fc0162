"""Management reports: what the change-request report measures, stored narrow
(``cr_approval_times``): a row per approval step and per round, with the change's
creation, department and owner beside it, so the report reads one table by index instead of
joining the period's steps to their changes and grouping them by round.

Triggers keep it: on ``cr_approval_steps``, a round's rows are recomputed from its steps
whenever a step is inserted, deleted, or changes its status, decision, start or place; on
``change_requests``, a change's rows follow its department, owner and creation time. Every
writer (the use cases, bulk loads, direct inserts) keeps the rows right without knowing of
them. Existing steps are copied here.

Revision ID: 0020_report_rounds
Revises: 0019
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.repositories.types import UTCDateTime

revision: str = '0020_report_rounds'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("change_request_id, round, position, role, department_id, owner_id, created_at,"
            " started_at, ended_at, outcome")
_FROM = " FROM cr_approval_steps s JOIN change_requests c ON c.id = s.change_request_id"
# A round's row: its first step's start, its last decision, its outcome.
_ROUND = (
    "INSERT INTO cr_approval_times (" + _COLUMNS + ")"
    " SELECT s.change_request_id, s.round, 0, 'end_to_end', c.department_id, c.owner_id,"
    " c.created_at, min(CASE WHEN s.position = 1 THEN s.started_at END), max(s.decided_at),"
    " CASE WHEN sum(CASE WHEN s.status = 'rejected' THEN 1 ELSE 0 END) > 0 THEN 'rejected'"
    " WHEN sum(CASE WHEN s.status = 'returned' THEN 1 ELSE 0 END) > 0 THEN 'returned'"
    " WHEN sum(CASE WHEN s.status = 'pending' THEN 1 ELSE 0 END) > 0 THEN 'pending'"
    " ELSE 'approved' END" + _FROM + " {where}"
    " GROUP BY s.change_request_id, s.round, c.department_id, c.owner_id, c.created_at")
# A step's row.
_STEPS = (
    "INSERT INTO cr_approval_times (" + _COLUMNS + ")"
    " SELECT s.change_request_id, s.round, s.position, s.role, c.department_id, c.owner_id,"
    " c.created_at, s.started_at, s.decided_at, s.status" + _FROM + " {where}")
_WATCHED = ("status", "decided_at", "started_at", "position", "round", "change_request_id")
_OF_CHANGE = ("department_id", "owner_id", "created_at")
_FOLLOW_CHANGE = ("UPDATE cr_approval_times SET department_id = NEW.department_id,"
                  " owner_id = NEW.owner_id, created_at = NEW.created_at"
                  " WHERE change_request_id = NEW.id;")


def _refresh(cr: str, round_: str) -> str:
    """The statements recomputing the rows of round ``round_`` of ``cr`` (SQL
    expressions)."""
    where = f"WHERE s.change_request_id = {cr} AND s.round = {round_}"
    return (f"DELETE FROM cr_approval_times WHERE change_request_id = {cr}"  # noqa: S608
            f" AND round = {round_}; " + _ROUND.format(where=where) + "; "
            + _STEPS.format(where=where) + ";")


def _sqlite_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    op.execute("CREATE TRIGGER cr_approval_times_on_insert AFTER INSERT ON cr_approval_steps"
               " BEGIN " + _refresh("NEW.change_request_id", "NEW.round") + " END")
    op.execute("CREATE TRIGGER cr_approval_times_on_delete AFTER DELETE ON cr_approval_steps"
               " BEGIN " + _refresh("OLD.change_request_id", "OLD.round") + " END")
    op.execute("CREATE TRIGGER cr_approval_times_on_update AFTER UPDATE ON cr_approval_steps"
               f" WHEN {changed} BEGIN "
               + _refresh("OLD.change_request_id", "OLD.round") + " "
               + _refresh("NEW.change_request_id", "NEW.round") + " END")
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _OF_CHANGE)
    op.execute("CREATE TRIGGER cr_approval_times_follow_change AFTER UPDATE ON change_requests"
               f" WHEN {moved} BEGIN " + _FOLLOW_CHANGE + " END")


def _postgres_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
    op.execute(
        "CREATE FUNCTION cr_approval_times_refresh(cr uuid, r integer) RETURNS void"
        " LANGUAGE sql AS $$ " + _refresh("cr", "r") + " $$")
    op.execute(
        "CREATE FUNCTION cr_approval_times_follow_steps() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN"
        " IF TG_OP <> 'INSERT' THEN"
        " PERFORM cr_approval_times_refresh(OLD.change_request_id, OLD.round); END IF;"
        " IF TG_OP <> 'DELETE' THEN"
        " PERFORM cr_approval_times_refresh(NEW.change_request_id, NEW.round); END IF;"
        " RETURN NULL; END $$")
    op.execute("CREATE TRIGGER cr_approval_times_on_insert_delete AFTER INSERT OR DELETE"
               " ON cr_approval_steps FOR EACH ROW"
               " EXECUTE FUNCTION cr_approval_times_follow_steps()")
    op.execute("CREATE TRIGGER cr_approval_times_on_update AFTER UPDATE ON cr_approval_steps"
               f" FOR EACH ROW WHEN ({changed})"
               " EXECUTE FUNCTION cr_approval_times_follow_steps()")
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _OF_CHANGE)
    op.execute(
        "CREATE FUNCTION cr_approval_times_follow_change() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN " + _FOLLOW_CHANGE + " RETURN NULL; END $$")
    op.execute("CREATE TRIGGER cr_approval_times_follow_change AFTER UPDATE ON change_requests"
               f" FOR EACH ROW WHEN ({moved})"
               " EXECUTE FUNCTION cr_approval_times_follow_change()")


def upgrade() -> None:
    op.create_table(
        "cr_approval_times",
        sa.Column("change_request_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["change_request_id"], ["change_requests.id"]),
        sa.PrimaryKeyConstraint("change_request_id", "round", "position"),
    )
    op.execute(_ROUND.format(where=""))
    op.execute(_STEPS.format(where=""))
    op.create_index("ix_cr_approval_times_created", "cr_approval_times", ["created_at"])
    op.create_index("ix_cr_approval_times_dept_created", "cr_approval_times",
                    ["department_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER cr_approval_times_follow_change ON change_requests")
        op.execute("DROP TRIGGER cr_approval_times_on_update ON cr_approval_steps")
        op.execute("DROP TRIGGER cr_approval_times_on_insert_delete ON cr_approval_steps")
        op.execute("DROP FUNCTION cr_approval_times_follow_change()")
        op.execute("DROP FUNCTION cr_approval_times_follow_steps()")
        op.execute("DROP FUNCTION cr_approval_times_refresh(uuid, integer)")
    else:
        for name in ("on_insert", "on_delete", "on_update", "follow_change"):
            op.execute(f"DROP TRIGGER cr_approval_times_{name}")
    op.drop_table("cr_approval_times")
