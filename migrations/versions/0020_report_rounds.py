"""Management reports: approval rounds stored (``cr_approval_rounds``), so the change-request
report reads one row per round instead of grouping every approval step of the period.

Triggers on ``cr_approval_steps`` recompute a round's row from its steps whenever a step is
inserted, deleted, or changes its status, decision time, start time or place: every writer
of steps (the use cases, bulk loads, direct inserts) keeps the rows right without knowing
of them. Existing rounds are filled from their steps here.

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

# A round's row from its steps: its first step's start, its last decision, its outcome.
_ROUND = (
    "INSERT INTO cr_approval_rounds (change_request_id, round, began_at, ended_at, outcome)"
    " SELECT change_request_id, round, min(CASE WHEN position = 1 THEN started_at END),"
    " max(decided_at), CASE"
    " WHEN sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) > 0 THEN 'rejected'"
    " WHEN sum(CASE WHEN status = 'returned' THEN 1 ELSE 0 END) > 0 THEN 'returned'"
    " WHEN sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) > 0 THEN 'pending'"
    " ELSE 'approved' END"
    " FROM cr_approval_steps {where} GROUP BY change_request_id, round")
_WATCHED = ("status", "decided_at", "started_at", "position", "round", "change_request_id")


def _refresh(cr: str, round_: str) -> str:
    """The statements recomputing the round ``cr``/``round_`` (SQL expressions)."""
    return (f"DELETE FROM cr_approval_rounds WHERE change_request_id = {cr}"  # noqa: S608
            f" AND round = {round_}; "
            + _ROUND.format(where=f"WHERE change_request_id = {cr} AND round = {round_}")
            + ";")


def _sqlite_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    op.execute("CREATE TRIGGER cr_approval_rounds_on_insert AFTER INSERT ON cr_approval_steps"
               " BEGIN " + _refresh("NEW.change_request_id", "NEW.round") + " END")
    op.execute("CREATE TRIGGER cr_approval_rounds_on_delete AFTER DELETE ON cr_approval_steps"
               " BEGIN " + _refresh("OLD.change_request_id", "OLD.round") + " END")
    op.execute("CREATE TRIGGER cr_approval_rounds_on_update AFTER UPDATE ON cr_approval_steps"
               f" WHEN {changed} BEGIN "
               + _refresh("OLD.change_request_id", "OLD.round") + " "
               + _refresh("NEW.change_request_id", "NEW.round") + " END")


def _postgres_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
    op.execute(
        "CREATE FUNCTION cr_approval_round_refresh(cr uuid, r integer) RETURNS void"
        " LANGUAGE sql AS $$ " + _refresh("cr", "r") + " $$")
    op.execute(
        "CREATE FUNCTION cr_approval_rounds_follow_steps() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN"
        " IF TG_OP <> 'INSERT' THEN"
        " PERFORM cr_approval_round_refresh(OLD.change_request_id, OLD.round); END IF;"
        " IF TG_OP <> 'DELETE' THEN"
        " PERFORM cr_approval_round_refresh(NEW.change_request_id, NEW.round); END IF;"
        " RETURN NULL; END $$")
    op.execute("CREATE TRIGGER cr_approval_rounds_on_insert_delete AFTER INSERT OR DELETE"
               " ON cr_approval_steps FOR EACH ROW"
               " EXECUTE FUNCTION cr_approval_rounds_follow_steps()")
    op.execute("CREATE TRIGGER cr_approval_rounds_on_update AFTER UPDATE ON cr_approval_steps"
               f" FOR EACH ROW WHEN ({changed})"
               " EXECUTE FUNCTION cr_approval_rounds_follow_steps()")


def upgrade() -> None:
    op.create_table(
        "cr_approval_rounds",
        sa.Column("change_request_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("began_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["change_request_id"], ["change_requests.id"]),
        sa.PrimaryKeyConstraint("change_request_id", "round"),
    )
    op.execute(_ROUND.format(where=""))
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER cr_approval_rounds_on_update ON cr_approval_steps")
        op.execute("DROP TRIGGER cr_approval_rounds_on_insert_delete ON cr_approval_steps")
        op.execute("DROP FUNCTION cr_approval_rounds_follow_steps()")
        op.execute("DROP FUNCTION cr_approval_round_refresh(uuid, integer)")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER cr_approval_rounds_on_{name}")
    op.drop_table("cr_approval_rounds")
