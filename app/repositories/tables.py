"""Table definitions for the foundation: people and access, audit, outbox, idempotency,
and the administrator policies every feature reads.

Feature modules define their own tables on the same ``metadata``; Alembic reads it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from app.repositories.types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

departments = Table(
    "departments", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_departments_name_id", departments.c.name, departments.c.id)

users = Table(
    "users", metadata,
    Column("id", Uuid, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_users_department_created", users.c.department_id, users.c.created_at, users.c.id)
Index("ix_users_created_id", users.c.created_at, users.c.id)
Index("ix_users_username_id", users.c.username, users.c.id)

user_roles = Table(
    "user_roles", metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), primary_key=True),
)
Index("ix_user_roles_role", user_roles.c.role, user_roles.c.user_id)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False, index=True),
    Column("family_id", Uuid, nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSONType, nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id")),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("rate_limit", Integer),  # its own requests per window; NULL: the default
)
Index("ix_api_keys_created_id", api_keys.c.created_at, api_keys.c.id)

login_failures = Table(
    "login_failures", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
)
Index("ix_login_failures_key_time", login_failures.c.key, login_failures.c.occurred_at)

# Where each user has signed in successfully: such an address keeps working while the
# account is under a spread-out guessing attack (app/services/auth.py, LoginPolicy).
known_sign_in_addresses = Table(
    "known_sign_in_addresses", metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("actor_id", String(64)),
    Column("actor_roles", JSONType, nullable=False),
    Column("action", String(100), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(64)),
    Column("before", JSONType),
    Column("after", JSONType),
    Column("request_id", String(128)),
    Column("client_addr", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_entity", audit_log.c.entity_type, audit_log.c.entity_id, audit_log.c.seq)

# One row (id = 1): the newest entry's seq and hash. Appends lock it, which serialises the
# chain, and verification compares with it, which catches removal of the newest entries.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Signed checkpoints of the chain (``accord audit checkpoint``): the head at a moment, signed
# with a key the database never holds. Append-only like the log (migration 0013's triggers).
audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("signature", String(128), nullable=False),
)

# The general rate limit's counters on PostgreSQL, shared by every API process: one row
# per caller holding its current window's number and count (a new window restarts it).
rate_limit_counters = Table(
    "rate_limit_counters", metadata,
    Column("key", String(100), primary_key=True),
    Column("window_no", BigInteger, nullable=False),
    Column("hits", Integer, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", String(100), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("data", JSONType, nullable=False),
    Column("request_id", String(128)),
    Column("published_at", UTCDateTime),
)
Index("ix_outbox_unpublished", outbox.c.published_at, outbox.c.occurred_at)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("caller", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_headers", JSONType),
    Column("response_body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

policies = Table(
    "policies", metadata,
    Column("name", String(50), primary_key=True),
    Column("value", JSONType, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64)),
)
