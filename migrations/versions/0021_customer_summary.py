"""Management reports (issue 18): the live customers counted ahead, by scope keys and
report dimensions (``customer_summary``) and by health (``customer_health_summary``),
so the customer and account-manager reports sum a few thousand rows instead of joining
every customer to its health.

Triggers keep the counts in the transaction that changes ``customers`` or
``customer_health``, whatever writes it. PostgreSQL: one statement-level trigger per
event, with transition tables, so a set-based load adds one grouped upsert per statement
rather than one per row; the health side locks the rows it reads on the other table
(``FOR SHARE`` / ``FOR UPDATE``), so a customer moved while its health is recomputed in
another transaction is counted once, in its final place. SQLite (one writer at a time):
row-level triggers. Existing rows are counted here.

Revision ID: 0021_customer_summary
Revises: 0019
Create Date: 2026-12-08
"""

# ruff: noqa: S608 -- the SQL is built from the fixed names below; no value enters it
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_customer_summary'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE = ("department_id", "owner_id", "shared_with_department")
KEYS = (*SCOPE, "tier", "stage", "integrity_score")
HEALTH = ("score", "below_threshold")
HEALTH_KEYS = (*SCOPE, *HEALTH)
LIVE = "archived_at IS NULL AND merged_into IS NULL"
# the columns whose change moves a customer between rows
MOVES = (*KEYS, "archived_at", "merged_into")


def _cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + n for n in names)


def _add(table: str, keys: Sequence[str]) -> str:
    return (f" ON CONFLICT ({_cols(keys)}) DO UPDATE SET n = {table}.n + excluded.n")


def _postgres_customers(sources: Sequence[tuple[str, int]]) -> str:
    """The customers trigger's body for one event: ``sources`` the transition tables
    with the sign their rows count with."""
    counted = " UNION ALL ".join(
        f"SELECT {_cols(KEYS)}, id, {sign} AS d FROM {t} WHERE {LIVE}" for t, sign in sources)
    sql = (f"INSERT INTO customer_summary ({_cols(KEYS)}, n)"
           f" SELECT {_cols(KEYS)}, sum(d) FROM ({counted}) AS x GROUP BY {_cols(KEYS)}"
           f" HAVING sum(d) <> 0 ORDER BY {_cols(KEYS)}" + _add("customer_summary", KEYS) + ";")
    if len(sources) == 2:  # an update can move a customer's health; an insert or a
        # delete has none (customer_health references customers)
        sql += (
            " WITH health AS (SELECT customer_id, score, below_threshold FROM customer_health"
            " WHERE customer_id IN (SELECT id FROM new_rows) FOR UPDATE)"
            f" INSERT INTO customer_health_summary ({_cols(HEALTH_KEYS)}, n)"
            f" SELECT {_cols(SCOPE, 'x.')}, {_cols(HEALTH, 'h.')}, sum(x.d)"
            f" FROM ({counted}) AS x JOIN health AS h ON h.customer_id = x.id"
            f" GROUP BY {_cols(SCOPE, 'x.')}, {_cols(HEALTH, 'h.')}"
            f" HAVING sum(x.d) <> 0 ORDER BY {_cols(SCOPE, 'x.')}, {_cols(HEALTH, 'h.')}"
            + _add("customer_health_summary", HEALTH_KEYS) + ";")
    return sql


def _postgres_health(sources: Sequence[tuple[str, int]]) -> str:
    ids = " UNION ".join(f"SELECT customer_id FROM {t}" for t, _ in sources)
    counted = " UNION ALL ".join(
        f"SELECT customer_id, {_cols(HEALTH)}, {sign} AS d FROM {t}" for t, sign in sources)
    return (
        f"WITH c AS (SELECT id, {_cols(SCOPE)} FROM customers WHERE id IN ({ids})"
        f" AND {LIVE} FOR SHARE)"
        f" INSERT INTO customer_health_summary ({_cols(HEALTH_KEYS)}, n)"
        f" SELECT {_cols(SCOPE, 'c.')}, {_cols(HEALTH, 'x.')}, sum(x.d)"
        f" FROM ({counted}) AS x JOIN c ON c.id = x.customer_id"
        f" GROUP BY {_cols(SCOPE, 'c.')}, {_cols(HEALTH, 'x.')}"
        f" HAVING sum(x.d) <> 0 ORDER BY {_cols(SCOPE, 'c.')}, {_cols(HEALTH, 'x.')}"
        + _add("customer_health_summary", HEALTH_KEYS) + ";")


_EVENTS = {"INSERT": (("new_rows", 1),), "UPDATE": (("old_rows", -1), ("new_rows", 1)),
           "DELETE": (("old_rows", -1),)}
_REFERENCING = {"INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows"}
_POSTGRES = {"customers": ("customer_summary_of_customers", _postgres_customers),
             "customer_health": ("customer_summary_of_health", _postgres_health)}


def _postgres_up() -> None:
    for table, (function, body) in _POSTGRES.items():
        branches = " ".join(f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{event}' THEN {body(s)}"
                            for i, (event, s) in enumerate(_EVENTS.items()))
        op.execute(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$"
                   f" BEGIN {branches} END IF; RETURN NULL; END $$")
        for event in _EVENTS:
            op.execute(f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}"
                       f" REFERENCING {_REFERENCING[event]} FOR EACH STATEMENT"
                       f" EXECUTE FUNCTION {function}()")


def _sqlite_customer_rows(row: str, sign: int) -> str:
    live = f"{row}.archived_at IS NULL AND {row}.merged_into IS NULL"
    return (f"INSERT INTO customer_summary ({_cols(KEYS)}, n)"
            f" SELECT {_cols(KEYS, row + '.')}, {sign} WHERE {live}"
            + _add("customer_summary", KEYS) + ";"
            f" INSERT INTO customer_health_summary ({_cols(HEALTH_KEYS)}, n)"
            f" SELECT {_cols(SCOPE, row + '.')}, {_cols(HEALTH)}, {sign} FROM customer_health"
            f" WHERE customer_id = {row}.id AND {live}"
            + _add("customer_health_summary", HEALTH_KEYS) + ";")


def _sqlite_health_rows(row: str, sign: int) -> str:
    return (f"INSERT INTO customer_health_summary ({_cols(HEALTH_KEYS)}, n)"
            f" SELECT {_cols(SCOPE)}, {_cols(HEALTH, row + '.')}, {sign} FROM customers"
            f" WHERE id = {row}.customer_id AND {LIVE}"
            + _add("customer_health_summary", HEALTH_KEYS) + ";")


def _sqlite_up() -> None:
    rows = {"INSERT": (("NEW", 1),), "UPDATE": (("OLD", -1), ("NEW", 1)),
            "DELETE": (("OLD", -1),)}
    for table, name, body, watched in (
            ("customers", "customer_summary_of_customers", _sqlite_customer_rows, MOVES),
            ("customer_health", "customer_summary_of_health", _sqlite_health_rows,
             ("customer_id", *HEALTH))):
        for event, signs in rows.items():
            of = f" OF {_cols(watched)}" if event == "UPDATE" else ""
            op.execute(f"CREATE TRIGGER {name}_{event.lower()} AFTER {event}{of} ON {table}"
                       f" BEGIN {' '.join(body(r, s) for r, s in signs)} END")


def upgrade() -> None:
    op.create_table(
        'customer_summary',
        sa.Column('department_id', sa.Uuid(), nullable=False),
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('shared_with_department', sa.Boolean(), nullable=False),
        sa.Column('tier', sa.String(length=1), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('integrity_score', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS, name=op.f('pk_customer_summary')))
    op.create_table(
        'customer_health_summary',
        sa.Column('department_id', sa.Uuid(), nullable=False),
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('shared_with_department', sa.Boolean(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('below_threshold', sa.Boolean(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*HEALTH_KEYS, name=op.f('pk_customer_health_summary')))
    op.execute(f"INSERT INTO customer_summary ({_cols(KEYS)}, n)"
               f" SELECT {_cols(KEYS)}, count(*) FROM customers WHERE {LIVE}"
               f" GROUP BY {_cols(KEYS)}")
    op.execute(f"INSERT INTO customer_health_summary ({_cols(HEALTH_KEYS)}, n)"
               f" SELECT {_cols(SCOPE, 'c.')}, {_cols(HEALTH, 'h.')}, count(*)"
               " FROM customers AS c JOIN customer_health AS h ON h.customer_id = c.id"
               f" WHERE c.{LIVE.replace(' AND ', ' AND c.')}"
               f" GROUP BY {_cols(SCOPE, 'c.')}, {_cols(HEALTH, 'h.')}")
    if op.get_bind().dialect.name == "postgresql":
        _postgres_up()
    else:
        _sqlite_up()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (function, _) in _POSTGRES.items():
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {function}_{event.lower()}"
                       + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table('customer_health_summary')
    op.drop_table('customer_summary')
