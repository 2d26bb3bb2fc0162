"""The account-manager report's follow-through figures without reading every customer:
next contacts due counted per (owner, department, due date) of live customers, and each
plan's copy of its customer's department, both kept by triggers so that every write path
(contact logged, handover, archive, merge, erasure, import) keeps them without knowing.

"Live" is the report's rule: not archived and not merged away. PostgreSQL keeps the counts
with statement-level triggers over the transition tables (one upsert per statement, so a
bulk import or update costs one grouped join, not one trigger call a row); SQLite, which
has no statement-level triggers, with row triggers. A count that drops to zero stays as a
zero row: the report sums counts, so it needs no cleanup, and the rows are bounded by
owners x departments x due dates.

Revision ID: 0022_report_plans
Revises: 0021_customer_summary
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022_report_plans'
down_revision: str | None = '0021_customer_summary'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "{c}.archived_at IS NULL AND {c}.merged_into IS NULL"

# PostgreSQL: a statement's changes as signed rows (owner, department, due_on, delta),
# summed into the counts in one upsert
_PG_APPLY = """
    INSERT INTO contact_due_counts (owner_id, department_id, due_on, n)
    SELECT owner_id, department_id, due_on, sum(delta) FROM ({deltas}) AS d
    GROUP BY owner_id, department_id, due_on HAVING sum(delta) <> 0
    ON CONFLICT (owner_id, department_id, due_on)
    DO UPDATE SET n = contact_due_counts.n + excluded.n;
"""
# a schedule's side: its customer's keys, the customer row share-locked so that a
# concurrent owner or department change waits and then counts the schedule as it is now
_PG_SCHEDULES = """
    SELECT * FROM (SELECT c.owner_id, c.department_id, s.due_on, {sign} AS delta
                   FROM {rows} AS s JOIN customers AS c ON c.id = s.customer_id
                   WHERE {live} FOR SHARE OF c) AS {rows}_keys
"""
# a customer's side: the schedule taken away under the old keys and added under the new
# ones, for every updated customer (an update that moves nothing cancels out in the sum);
# the old and new rows are never joined to each other, which costs a nested loop over two
# unindexed transition tables (a 10,000-row update took minutes that way)
_PG_CUSTOMERS = """
    SELECT o.owner_id, o.department_id, s.due_on, -1 AS delta
    FROM old_rows AS o JOIN contact_schedules AS s ON s.customer_id = o.id
    WHERE {old_live}
    UNION ALL
    SELECT n.owner_id, n.department_id, s.due_on, 1
    FROM new_rows AS n JOIN contact_schedules AS s ON s.customer_id = n.id
    WHERE {new_live}
"""


def _pg_function(name: str, body: str) -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{body} RETURN NULL; END $$")


def _pg_schedule_rows(rows: str, sign: str) -> str:
    return _PG_SCHEDULES.format(rows=rows, sign=sign, live=_LIVE.format(c="c"))


_PG_FUNCTIONS = {
    "contact_due_inserted": _PG_APPLY.format(deltas=_pg_schedule_rows("new_rows", "1")),
    "contact_due_deleted": _PG_APPLY.format(deltas=_pg_schedule_rows("old_rows", "-1")),
    "contact_due_updated": _PG_APPLY.format(deltas=_pg_schedule_rows("old_rows", "-1")
                                            + " UNION ALL "
                                            + _pg_schedule_rows("new_rows", "1")),
    "contact_due_customer_moved": _PG_APPLY.format(deltas=_PG_CUSTOMERS.format(  # noqa: S608
        old_live=_LIVE.format(c="o"), new_live=_LIVE.format(c="n")))
    # the plans of a customer whose department changed follow it
    + """
    UPDATE plans SET scope_department_id = n.department_id FROM new_rows AS n
    WHERE plans.customer_id = n.id
      AND plans.scope_department_id IS DISTINCT FROM n.department_id;
    """,
}
# (trigger, table, event, transition tables, function)
_PG_TRIGGERS = [
    ("contact_due_insert", "contact_schedules", "INSERT", "NEW TABLE AS new_rows",
     "contact_due_inserted"),
    ("contact_due_delete", "contact_schedules", "DELETE", "OLD TABLE AS old_rows",
     "contact_due_deleted"),
    ("contact_due_update", "contact_schedules", "UPDATE",
     "OLD TABLE AS old_rows NEW TABLE AS new_rows", "contact_due_updated"),
    ("contact_due_customer_update", "customers", "UPDATE",
     "OLD TABLE AS old_rows NEW TABLE AS new_rows", "contact_due_customer_moved"),
]
# a new plan, or one moved to another customer (a merge), takes its customer's department
_PG_PLAN_DEPARTMENT = """
    CREATE FUNCTION plan_customer_department() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    NEW.scope_department_id := (SELECT department_id FROM customers
                                   WHERE id = NEW.customer_id);
    RETURN NEW; END $$
"""

# SQLite: row triggers, the same rules one row at a time
_SQLITE_ADD = """
    INSERT INTO contact_due_counts (owner_id, department_id, due_on, n)
    SELECT owner_id, department_id, {due_on}, {sign} FROM customers
    WHERE id = {customer} AND {live}
    ON CONFLICT (owner_id, department_id, due_on) DO UPDATE SET n = n + excluded.n;
"""
_SQLITE_MOVE = """
    INSERT INTO contact_due_counts (owner_id, department_id, due_on, n)
    SELECT {side}.owner_id, {side}.department_id, due_on, {sign} FROM contact_schedules
    WHERE customer_id = NEW.id AND {live}
    ON CONFLICT (owner_id, department_id, due_on) DO UPDATE SET n = n + excluded.n;
"""


def _sqlite_schedule(row: str, sign: str) -> str:
    return _SQLITE_ADD.format(due_on=f"{row}.due_on", sign=sign,
                              customer=f"{row}.customer_id", live=_LIVE.format(c="customers"))


_SQLITE_TRIGGERS = {
    "contact_due_insert": ("AFTER INSERT ON contact_schedules", _sqlite_schedule("NEW", "1")),
    "contact_due_delete": ("AFTER DELETE ON contact_schedules", _sqlite_schedule("OLD", "-1")),
    "contact_due_update": ("AFTER UPDATE ON contact_schedules",
                           _sqlite_schedule("OLD", "-1") + _sqlite_schedule("NEW", "1")),
    "contact_due_customer_update": (
        "AFTER UPDATE OF owner_id, department_id, archived_at, merged_into ON customers",
        _SQLITE_MOVE.format(side="OLD", sign="-1", live=_LIVE.format(c="OLD"))
        + _SQLITE_MOVE.format(side="NEW", sign="1", live=_LIVE.format(c="NEW"))),
    "plan_department_customer": (
        "AFTER UPDATE OF department_id ON customers",
        "UPDATE plans SET scope_department_id = NEW.department_id "
        "WHERE customer_id = NEW.id;"),
    "plan_department_insert": (
        "AFTER INSERT ON plans",
        "UPDATE plans SET scope_department_id = (SELECT department_id FROM customers "
        "WHERE id = NEW.customer_id) WHERE id = NEW.id;"),
    "plan_department_move": (
        "AFTER UPDATE OF customer_id ON plans",
        "UPDATE plans SET scope_department_id = (SELECT department_id FROM customers "
        "WHERE id = NEW.customer_id) WHERE id = NEW.id;"),
}

_BACKFILL_COUNTS = """
    INSERT INTO contact_due_counts (owner_id, department_id, due_on, n)
    SELECT c.owner_id, c.department_id, s.due_on, count(*)
    FROM contact_schedules AS s JOIN customers AS c ON c.id = s.customer_id
    WHERE c.archived_at IS NULL AND c.merged_into IS NULL
    GROUP BY c.owner_id, c.department_id, s.due_on
"""
_BACKFILL_PLANS = """
    UPDATE plans SET scope_department_id = (SELECT department_id FROM customers
                                               WHERE customers.id = plans.customer_id)
"""


def upgrade() -> None:
    op.create_table(
        "contact_due_counts",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "department_id", "due_on"),
    )
    op.create_index("ix_contact_due_counts_department", "contact_due_counts",
                    ["department_id", "due_on"])
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("scope_department_id", sa.Uuid(), nullable=True))
    op.execute(_BACKFILL_COUNTS)
    op.execute(_BACKFILL_PLANS)
    op.create_index("ix_plans_scope_department", "plans",
                    ["scope_department_id", "state"])
    if op.get_bind().dialect.name == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            op.execute(_pg_function(name, body))
        for trigger, table, event, transition, function in _PG_TRIGGERS:
            op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} "
                       f"REFERENCING {transition} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {function}()")
        op.execute(_PG_PLAN_DEPARTMENT)
        op.execute("CREATE TRIGGER plan_customer_department BEFORE INSERT OR UPDATE OF "
                   "customer_id ON plans FOR EACH ROW "
                   "EXECUTE FUNCTION plan_customer_department()")
    else:
        for trigger, (when, body) in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {trigger} {when} BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS plan_customer_department ON plans")
        op.execute("DROP FUNCTION IF EXISTS plan_customer_department()")
        for trigger, table, _, _, function in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_index("ix_plans_scope_department", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("scope_department_id")
    op.drop_index("ix_contact_due_counts_department", table_name="contact_due_counts")
    op.drop_table("contact_due_counts")
