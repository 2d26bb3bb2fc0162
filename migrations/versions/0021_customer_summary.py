"""Management reports (issue 18): the customers counted ahead, so the customer and
account-manager reports sum a few thousand rows instead of reading every customer:

- ``customer_summary``: live customers by scope keys, tier, stage and integrity score;
- ``customer_health_summary``: live customers' health by scope keys, score and band;
- ``customer_new_days``: customers not merged away by scope keys and UTC day created;
- ``customer_churn_days``: churn events (the timeline's stage changes to ``churned``) by
  their customer's scope keys, UTC day and reason ('' for none);

and an index for the account-manager report's feedback figures of one department.

Triggers keep the counts in the transaction that changes ``customers``,
``customer_health`` or ``customer_timeline``, whatever writes it. PostgreSQL: mostly one
statement-level trigger per event, with transition tables, so a set-based load adds one
grouped upsert per statement rather than one per row (row-level where a WHEN clause skips
the writes that change no count, see ``ROW_LEVEL``); each side locks the rows it reads on
the other table (``FOR SHARE`` the customers, ``FOR UPDATE`` their health), so a customer
moved while its health is recomputed in another transaction is counted once, in its final
place. SQLite (one writer at a time): row-level triggers. Existing rows are counted here.

Revision ID: 0021_customer_summary
Revises: 0020_report_rounds
Create Date: 2026-12-08
"""

# ruff: noqa: S608 -- the SQL is built from the fixed names below; no value enters it
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_customer_summary'
down_revision: str | None = '0020_report_rounds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE = ("department_id", "owner_id", "shared_with_department")
KEYS = (*SCOPE, "tier", "stage", "integrity_score")
HEALTH = ("score", "below_threshold")
TABLES = ("customer_summary", "customer_health_summary", "customer_new_days",
          "customer_churn_days")
# the customer columns whose change moves it between rows
MOVES = (*KEYS, "archived_at", "merged_into", "created_at")
TRIGGERED = {"customers": "customer_summary_of_customers",
             "customer_health": "customer_summary_of_health",
             "customer_timeline": "customer_summary_of_timeline"}
EVENTS = {"INSERT": (("new_rows", 1),), "UPDATE": (("old_rows", -1), ("new_rows", 1)),
          "DELETE": (("old_rows", -1),)}


class Sql:
    """What PostgreSQL and SQLite spell differently."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    def day(self, t: str) -> str:
        return f"({t} AT TIME ZONE 'UTC')::date" if self.postgres else f"date({t})"

    def field(self, data: str, name: str) -> str:
        return f"{data}->>'{name}'" if self.postgres else f"json_extract({data}, '$.{name}')"

    def churn(self, t: str) -> str:
        return (f"{t}.type = 'customer.stage_changed'"
                f" AND {self.field(t + '.data', 'to')} = 'churned'")

    def reason(self, t: str) -> str:
        return f"coalesce({self.field(t + '.data', 'churn_reason')}, '')"


def live(c: str) -> str:
    return f"{c}.archived_at IS NULL AND {c}.merged_into IS NULL"


def cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + n for n in names)


def upsert(table: str, keys: Sequence[tuple[str, str]], source: str, weight: str) -> str:
    """Adds ``weight`` per row of ``source`` (``FROM … [WHERE …]``) to ``table``'s rows,
    grouped by ``keys`` (column, expression); groups that net to zero write nothing."""
    names = ", ".join(k for k, _ in keys)
    exprs = ", ".join(e for _, e in keys)
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return (f"INSERT INTO {table} ({names}, n) SELECT {exprs}, sum({weight}) {source}"
            f" GROUP BY {positions} HAVING sum({weight}) <> 0 ORDER BY {positions}"
            f" ON CONFLICT ({names}) DO UPDATE SET n = {table}.n + excluded.n;")


def scoped(prefix: str) -> list[tuple[str, str]]:
    return [(k, f"{prefix}.{k}") for k in SCOPE]


def customer_counts(sql: Sql, rows: str, weight: str) -> list[str]:
    """The four summaries' changes from customer rows ``rows`` (a FROM item aliased x),
    each counting ``weight``."""
    return [
        upsert("customer_summary", [(k, f"x.{k}") for k in KEYS],
               f"FROM {rows} WHERE {live('x')}", weight),
        upsert("customer_new_days", [*scoped("x"), ("day", sql.day("x.created_at"))],
               f"FROM {rows} WHERE x.merged_into IS NULL", weight),
        upsert("customer_health_summary", [*scoped("x"), *((k, f"h.{k}") for k in HEALTH)],
               f"FROM {rows} JOIN customer_health AS h ON h.customer_id = x.id"
               f" WHERE {live('x')}", weight),
        upsert("customer_churn_days",
               [*scoped("x"), ("day", sql.day("t.occurred_at")), ("reason", sql.reason("t"))],
               f"FROM {rows} JOIN customer_timeline AS t ON t.customer_id = x.id"
               f" WHERE {sql.churn('t')}", weight)]


def _postgres_bodies(sql: Sql, table: str, sources: Sequence[tuple[str, int]]) -> str:
    """A trigger's statements for one event. The rows read on the other table are locked
    first (a statement of its own, then joined as the table, by its index: a join to a
    locking CTE has no index, and the planner, which takes a transition table for one row,
    loops over it)."""
    union = " UNION ALL ".join(f"SELECT *, {sign} AS d FROM {t}" for t, sign in sources)
    rows = f"({union}) AS x"
    ids = " UNION ".join(f"SELECT {'id' if table == 'customers' else 'customer_id'} FROM {t}"
                         for t, _ in sources)
    if table == "customers":
        return (f"PERFORM 1 FROM customer_health WHERE customer_id IN ({ids}) FOR UPDATE; "
                + " ".join(customer_counts(sql, rows, "x.d")))
    lock = f"PERFORM 1 FROM customers WHERE id IN ({ids}) FOR SHARE; "
    if table == "customer_health":
        return lock + upsert("customer_health_summary",
                             [*scoped("c"), *((k, f"x.{k}") for k in HEALTH)],
                             f"FROM {rows} JOIN customers AS c ON c.id = x.customer_id"
                             f" WHERE {live('c')}", "x.d")
    return lock + upsert("customer_churn_days",
                         [*scoped("c"), ("day", sql.day("x.occurred_at")),
                          ("reason", sql.reason("x"))],
                         f"FROM {rows} JOIN customers AS c ON c.id = x.customer_id"
                         f" WHERE {sql.churn('x')}", "x.d")


_REFERENCING = {"INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows"}


# Row-level on PostgreSQL where most writes change nothing counted, so a WHEN clause skips
# them without calling anything: a health recomputed to the same score (only computed_at
# moves), and the timeline's events other than stage changes.
ROW_COLUMNS = {"customer_health": ("customer_id", *HEALTH),
               "customer_timeline": ("customer_id", "occurred_at", "type", "data")}
ROW_LEVEL = {
    ("customer_health", "UPDATE"): "OLD.customer_id IS DISTINCT FROM NEW.customer_id"
    " OR OLD.score IS DISTINCT FROM NEW.score"
    " OR OLD.below_threshold IS DISTINCT FROM NEW.below_threshold",
    ("customer_timeline", "INSERT"): "NEW.type = 'customer.stage_changed'",
    ("customer_timeline", "UPDATE"): "OLD.type = 'customer.stage_changed'"
    " OR NEW.type = 'customer.stage_changed'",
    ("customer_timeline", "DELETE"): "OLD.type = 'customer.stage_changed'"}


def _record(table: str, row: str) -> str:
    """A row trigger's OLD or NEW as a one-row FROM item."""
    return (f"(SELECT {', '.join(f'{row}.{c} AS {c}' for c in ROW_COLUMNS[table])})"
            f" AS {row.lower()}_row")


def _function(sql: Sql, table: str, name: str, row_level: bool) -> None:
    branches = " ".join(
        f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{event}' THEN "
        + _postgres_bodies(sql, table, [
            (_record(table, "OLD" if t == "old_rows" else "NEW") if row_level else t, sign)
            for t, sign in sources])
        for i, (event, sources) in enumerate(EVENTS.items()))
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
               f" BEGIN {branches} END IF; RETURN NULL; END $$")


def _postgres_up() -> None:
    sql = Sql(postgres=True)
    for table, function in TRIGGERED.items():
        _function(sql, table, function, row_level=False)
        if table in ROW_COLUMNS:
            _function(sql, table, f"{function}_row", row_level=True)
        for event in EVENTS:
            when = ROW_LEVEL.get((table, event))
            if when:
                op.execute(f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}"
                           f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {function}_row()")
            else:
                op.execute(f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}"
                           f" REFERENCING {_REFERENCING[event]} FOR EACH STATEMENT"
                           f" EXECUTE FUNCTION {function}()")


def _sqlite_bodies(sql: Sql, table: str, row: str, sign: int) -> str:
    weight = str(sign)
    if table == "customers":
        # the row as a one-row FROM item: SQLite has no NEW.* in a subquery's select list
        rows = f"(SELECT {', '.join(f'{row}.{c} AS {c}' for c in (*MOVES, 'id'))}) AS x"
        return " ".join(customer_counts(sql, rows, weight))
    if table == "customer_health":
        return upsert("customer_health_summary",
                      [*scoped("c"), *((k, f"{row}.{k}") for k in HEALTH)],
                      f"FROM customers AS c WHERE c.id = {row}.customer_id AND {live('c')}",
                      weight)
    return upsert("customer_churn_days",
                  [*scoped("c"), ("day", sql.day(f"{row}.occurred_at")),
                   ("reason", sql.reason(row))],
                  f"FROM customers AS c WHERE c.id = {row}.customer_id AND {sql.churn(row)}",
                  weight)


def _sqlite_up() -> None:
    sql = Sql(postgres=False)
    rows = {"INSERT": (("NEW", 1),), "UPDATE": (("OLD", -1), ("NEW", 1)),
            "DELETE": (("OLD", -1),)}
    watched = {"customers": MOVES, "customer_health": ("customer_id", *HEALTH),
               "customer_timeline": ("customer_id", "occurred_at", "type", "data")}
    for table, name in TRIGGERED.items():
        for event, signs in rows.items():
            of = f" OF {cols(watched[table])}" if event == "UPDATE" else ""
            op.execute(f"CREATE TRIGGER {name}_{event.lower()} AFTER {event}{of} ON {table}"
                       f" BEGIN {' '.join(_sqlite_bodies(sql, table, r, s) for r, s in signs)}"
                       " END")


def upgrade() -> None:
    def scope_columns() -> list[sa.Column[object]]:
        return [sa.Column('department_id', sa.Uuid(), nullable=False),
                sa.Column('owner_id', sa.Uuid(), nullable=False),
                sa.Column('shared_with_department', sa.Boolean(), nullable=False)]
    counted = {
        "customer_summary": [sa.Column('tier', sa.String(length=1), nullable=False),
                             sa.Column('stage', sa.String(length=16), nullable=False),
                             sa.Column('integrity_score', sa.SmallInteger(), nullable=False)],
        "customer_health_summary": [sa.Column('score', sa.Integer(), nullable=False),
                                    sa.Column('below_threshold', sa.Boolean(),
                                              nullable=False)],
        "customer_new_days": [sa.Column('day', sa.Date(), nullable=False)],
        "customer_churn_days": [sa.Column('day', sa.Date(), nullable=False),
                                sa.Column('reason', sa.String(length=32), nullable=False)]}
    for table, columns in counted.items():
        op.create_table(table, *scope_columns(), *columns,
                        sa.Column('n', sa.Integer(), nullable=False),
                        sa.PrimaryKeyConstraint(*SCOPE, *(c.name for c in columns),
                                                name=op.f(f'pk_{table}')))
    op.create_index('ix_feedback_items_dept_received', 'feedback_items',
                    ['department_id', 'received_at'], unique=False,
                    postgresql_include=['owner_id', 'acknowledged_at', 'acknowledge_due_at',
                                        'resolved_at', 'resolve_due_at'])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in customer_counts(Sql(postgres), "customers AS x", "1"):
        op.execute(statement.rstrip(";"))
    if postgres:
        _postgres_up()
    else:
        _sqlite_up()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, function in TRIGGERED.items():
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {function}_{event.lower()}"
                       + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
            op.execute(f"DROP FUNCTION IF EXISTS {function}_row()")
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_index('ix_feedback_items_dept_received', table_name='feedback_items')
