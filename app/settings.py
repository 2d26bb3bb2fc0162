"""Service settings, read from the environment with the ``ACCORD_`` prefix (or a ``.env`` file)."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SIGNING_KEY = "accord-development-signing-key-do-not-use-in-production"
# Where a frontend's dev server runs (Vite, then Create React App / Next.js).
DEVELOPMENT_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173",
                       "http://localhost:3000", "http://127.0.0.1:3000")
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error must not print the secrets read with it
    model_config = SettingsConfigDict(env_prefix="ACCORD_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    env: Literal["development", "production"] = "development"
    database_url: str = Field(
        default="sqlite+aiosqlite:///./accord.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    # Per worker process. Under load each worker keeps this many connections instead of
    # opening and closing overflow ones (docs/performance.md, "new connections").
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0)

    signing_key: SecretStr = SecretStr(DEVELOPMENT_SIGNING_KEY)
    jwt_issuer: str = "accord"
    jwt_audience: str = "accord-api"
    jwt_key_id: str = "k1"
    # Keys still accepted (never used to sign) while tokens signed before a rotation
    # expire: "kid:key" pairs, comma-separated; a secret, so it is never shown or logged.
    previous_signing_keys: SecretStr = SecretStr("")
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)

    # how long a process trusts the principal behind a bearer token (0: read it every time)
    principal_cache_s: float = Field(default=5.0, ge=0, le=60)
    # sign-in throttling (app/services/auth.py, LoginPolicy): failures within the window of
    # one account from one address lock that pair; from one address across accounts lock
    # that address; of one account from many addresses make unknown addresses wait a
    # doubling delay (at most login_max_delay_s) while known addresses keep working
    login_window_s: int = Field(default=900, ge=1)
    login_max_failures_per_pair: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_account_slowdown_after: int = Field(default=10, ge=1)
    login_max_delay_s: int = Field(default=300, ge=1)
    # the public survey page: attempts per client address per window (wrong tokens count)
    survey_attempts_per_window: int = Field(default=30, ge=1)
    survey_window_s: int = Field(default=600, ge=1)
    # the public progress-report links, the same way
    plan_report_attempts_per_window: int = Field(default=30, ge=1)
    plan_report_window_s: int = Field(default=600, ge=1)
    # Where a shared progress report's link points: this API's own page by default, or a
    # deployment's frontend (the token is appended), e.g. https://portal.example.cn/r/
    plan_report_link_base: str = "/api/v1/public/plan-reports/"
    # Where a survey invitation's link points, the same way (this API's answer page, which
    # serves browsers HTML, or a deployment's frontend), e.g. https://portal.example.cn/s/
    survey_link_base: str = "/api/v1/public/surveys/"

    # Signs the audit chain's checkpoints (HMAC-SHA256; `accord audit checkpoint`). Keep it
    # out of the database and away from its administrators: whoever holds it can sign a
    # rewritten chain. Unset: no checkpoints are taken or checked.
    audit_checkpoint_key: SecretStr | None = None

    # The general rate limit: requests per caller (user, API key, or address when nobody
    # signed in) per window; an API key may have its own limit. Unset: 600 in production,
    # off in development; 0: off. On PostgreSQL every process shares the counters.
    rate_limit_requests: int | None = Field(default=None, ge=0)
    rate_limit_window_s: int = Field(default=60, ge=1, le=3600)
    # for callers nobody signed in as (per address); unset: rate_limit_requests
    rate_limit_anonymous_requests: int | None = Field(default=None, ge=1)

    # Browser origins (scheme://host[:port]) allowed to call the API, comma-separated.
    # Unset: the DEVELOPMENT_ORIGINS in development, none in production; "" allows none.
    cors_origins: Annotated[list[str] | None, NoDecode] = None

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Responses at least this large are gzipped for clients that accept it.
    # bulk jobs (imports, exports): uploads may be this large; files live in this
    # directory (shared by the API and the worker); an export may be fetched this long
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    job_files_dir: str = "./accord-files"
    export_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    gzip_min_bytes: int = Field(default=1024, ge=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    idempotency_lock_s: int = Field(default=60, ge=1)

    # E-mail through SMTP (survey invitations, notification e-mails of users who opt in).
    # Unset host: e-mails are logged, not sent (the development default; said at start-up).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # never shown or logged
    smtp_from: str = "Accord <accord@localhost>"
    smtp_starttls: bool = True  # upgrade the connection (port 587)
    smtp_ssl: bool = False  # implicit TLS from the start (port 465)
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Where links in e-mails point (the API's public address), and the language of
    # e-mails to people who chose none (survey contacts).
    public_url: str = "http://127.0.0.1:8000"
    email_language: Literal["zh-CN", "en"] = "zh-CN"
    # The worker (outbox relay, webhook deliveries, periodic jobs). In-process: run inside
    # each `accord serve` process; unset, on for SQLite (the quick start needs no second
    # process) and off for PostgreSQL (run `accord worker` processes, as many as you like).
    worker_in_process: bool | None = None
    worker_poll_s: float = Field(default=0.2, gt=0, le=60)  # pause when there was no work
    worker_batch_size: int = Field(default=200, ge=1, le=5000)  # events per relay batch
    worker_delivery_batch: int = Field(default=100, ge=1, le=1000)  # deliveries sent at once
    worker_senders: int = Field(default=2, ge=1, le=32)  # concurrent delivery loops
    # a claimed delivery is not claimed again for this long (a worker killed mid-send
    # leaves it to another then); more than an attempt's 10 s timeout
    worker_claim_lease_s: float = Field(default=60, ge=0.5)
    # /readyz reports the worker as stale when no worker has beaten for this long
    worker_stale_after_s: int = Field(default=120, ge=10)
    # webhook delivery attempts older than this are pruned from the delivery log (the
    # latest attempt of a delivery that may still be sent again is kept)
    webhook_log_retention_days: int = Field(default=30, ge=1)

    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_worker_in_process(self) -> bool:
        return self.is_sqlite if self.worker_in_process is None else self.worker_in_process

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        if self.cors_origins is not None:
            return tuple(self.cors_origins)
        return DEVELOPMENT_ORIGINS if self.env == "development" else ()

    @property
    def rate_limit(self) -> int:
        """Requests per window and caller; 0 when the limit is off."""
        if self.rate_limit_requests is not None:
            return self.rate_limit_requests
        return 600 if self.env == "production" else 0

    @property
    def previous_keys(self) -> dict[str, str]:
        """The previous signing keys by ``kid`` (their format checked at start-up)."""
        return _key_pairs(self.previous_signing_keys)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [origin.strip() for origin in value.split(",") if origin.strip()]
        for origin in value or ():
            if not (origin == "*" or _ORIGIN.match(origin)):
                raise ValueError(f"ACCORD_CORS_ORIGINS: {origin!r} is not an origin such as "
                                 "https://app.example.com (scheme, host, optional port)")
        return value

    @model_validator(mode="after")
    def _production_needs_real_secret(self) -> Settings:
        if self.env == "production":
            key = self.signing_key.get_secret_value()
            if key == DEVELOPMENT_SIGNING_KEY or len(key) < 32:
                raise ValueError(
                    "ACCORD_SIGNING_KEY must be set to a secret of at least 32 characters "
                    "in production (the development default is refused)"
                )
            checkpoint_key = self.audit_checkpoint_key
            if checkpoint_key is not None and len(checkpoint_key.get_secret_value()) < 32:
                raise ValueError("ACCORD_AUDIT_CHECKPOINT_KEY must be a secret of at least 32 "
                                 "characters in production")
            for kid, previous in self.previous_keys.items():
                if previous == DEVELOPMENT_SIGNING_KEY or len(previous) < 32:
                    raise ValueError(
                        f"ACCORD_PREVIOUS_SIGNING_KEYS: the key of kid {kid!r} must be a secret "
                        "of at least 32 characters in production (the development default "
                        "is refused)")
        return self

    @model_validator(mode="after")
    def _previous_keys_are_pairs(self) -> Settings:
        if self.jwt_key_id in self.previous_keys:
            raise ValueError(f"ACCORD_PREVIOUS_SIGNING_KEYS names the current kid "
                             f"{self.jwt_key_id!r}; a previous key needs a kid of its own")
        return self


def _key_pairs(value: SecretStr) -> dict[str, str]:
    """``"k1:secret,k0:older"`` as ``{"k1": "secret", "k0": "older"}``; an error names the
    pair's position and never its secret."""
    pairs: dict[str, str] = {}
    for position, pair in enumerate(filter(None, map(str.strip,
                                                     value.get_secret_value().split(","))), 1):
        kid, _, key = pair.partition(":")
        if not kid.strip() or not key or kid.strip() in pairs:
            raise ValueError(f"ACCORD_PREVIOUS_SIGNING_KEYS: pair {position} is not a "
                             "\"kid:key\" pair with a kid of its own")
        pairs[kid.strip()] = key
    return pairs


def bind_refusal(settings: Settings, host: str) -> str | None:
    """Why a server may not listen on ``host``, or None. Development mode trusts the
    signing key that is in the source, so anyone who can reach the server could sign
    their own admin token: it listens on loopback only (``localhost``, ``127.0.0.0/8``,
    ``::1``). Anything else needs production mode and a real key."""
    if settings.env != "development":
        return None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (f"development mode listens on loopback only, not {host!r}: its signing key is "
            "public, so anyone reaching the server could sign an admin token. Set "
            "ACCORD_ENV=production and ACCORD_SIGNING_KEY, or bind 127.0.0.1")


@lru_cache
def get_settings() -> Settings:
    return Settings()
