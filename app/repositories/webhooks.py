"""Webhook endpoints, deliveries and the attempt log in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.common.paging import Page, PageRequest
from app.domain.webhooks.deliveries import AttemptOutcome, DeliveryState
from app.domain.webhooks.model import Delivery, DeliveryAttempt, WebhookEndpoint
from app.domain.webhooks.signing import message_id
from app.repositories.paging import keyset, to_page
from app.repositories.tables_worker import webhook_attempts, webhook_deliveries, webhook_endpoints
from app.services.ports.webhooks import DueDelivery

ENDPOINT_SORTS = {"created_at": webhook_endpoints.c.created_at}
ATTEMPT_SORTS = {"attempted_at": webhook_attempts.c.attempted_at}
_DELIVERY_FIELDS = ("state", "next_attempt_at", "attempts", "first_attempt_at",
                    "last_attempt_at", "last_status_code")
_SAVE_DELIVERY = (update(webhook_deliveries)
                  .where(webhook_deliveries.c.id == bindparam("b_id"))
                  .values({f: bindparam(f"b_{f}") for f in _DELIVERY_FIELDS}))


def _endpoint(row: Mapping[str, Any]) -> WebhookEndpoint:
    values = dict(row)
    values["event_types"] = tuple(values["event_types"])
    return WebhookEndpoint(**values)


def _delivery(row: Mapping[str, Any]) -> Delivery:
    values = {k: row[k] for k in ("id", "endpoint_id", "event_id", "event_type", "payload",
                                  "next_attempt_at", "created_at", *_DELIVERY_FIELDS[2:])}
    return Delivery(state=DeliveryState(row["state"]), **values)


def _attempt(row: Mapping[str, Any]) -> DeliveryAttempt:
    values = dict(row)
    values["outcome"] = AttemptOutcome(values["outcome"])
    return DeliveryAttempt(webhook_id=message_id(values["delivery_id"].hex), **values)


class SqlWebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _endpoint_values(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        values = dict(endpoint.__dict__)
        values["event_types"] = list(endpoint.event_types)
        return values

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._conn.execute(insert(webhook_endpoints).values(
            **self._endpoint_values(endpoint)))

    async def get_endpoint(self, endpoint_id: UUID, *,
                           for_update: bool = False) -> WebhookEndpoint | None:
        stmt = select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).mappings().one_or_none()
        return _endpoint(row) if row else None

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = self._endpoint_values(endpoint)
        await self._conn.execute(update(webhook_endpoints)
                                 .where(webhook_endpoints.c.id == endpoint.id).values(**values))

    async def list_endpoints(self, page: PageRequest) -> Page[WebhookEndpoint]:
        stmt = keyset(select(webhook_endpoints), ENDPOINT_SORTS, webhook_endpoints.c.id, page)
        rows = (await self._conn.execute(stmt)).mappings().all()
        return to_page(rows, page, _endpoint,
                       lambda r: (r["created_at"], r["id"]))

    async def enabled_endpoints(self) -> list[WebhookEndpoint]:
        rows = (await self._conn.execute(select(webhook_endpoints)
                                         .where(webhook_endpoints.c.enabled))).mappings().all()
        return [_endpoint(r) for r in rows]

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            await self._conn.execute(insert(webhook_deliveries), [
                {**d.__dict__, "state": str(d.state)} for d in deliveries])

    async def get_delivery(self, delivery_id: UUID, *,
                           for_update: bool = False) -> Delivery | None:
        stmt = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).mappings().one_or_none()
        return _delivery(row) if row else None

    async def save_delivery(self, delivery: Delivery) -> None:
        await self._save_deliveries([delivery])

    async def _save_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            await self._conn.execute(_SAVE_DELIVERY, [
                {"b_id": d.id, **{f"b_{f}": getattr(d, f) for f in _DELIVERY_FIELDS}}
                | {"b_state": str(d.state)} for d in deliveries])

    async def claim_due(self, now: datetime, lease_until: datetime,
                        limit: int) -> list[DueDelivery]:
        d, e = webhook_deliveries, webhook_endpoints
        stmt = (select(d, e.c.url, e.c.secret_sealed, e.c.previous_secret_sealed,
                       e.c.previous_secret_expires_at, e.c.failing_since)
                .join(e, e.c.id == d.c.endpoint_id)
                .where(d.c.state == DeliveryState.PENDING.value, d.c.next_attempt_at <= now,
                       e.c.enabled)
                .order_by(d.c.next_attempt_at).limit(limit)
                .with_for_update(of=d, skip_locked=True))
        rows = (await self._conn.execute(stmt)).mappings().all()
        if not rows:
            return []
        await self._conn.execute(update(d).where(d.c.id.in_([r["id"] for r in rows]))
                                 .values(next_attempt_at=lease_until))
        claimed = []
        for r in rows:
            sealed = [r["secret_sealed"]]
            if r["previous_secret_sealed"] and r["previous_secret_expires_at"] \
                    and now < r["previous_secret_expires_at"]:
                sealed.append(r["previous_secret_sealed"])
            claimed.append(DueDelivery(_delivery(r), r["url"], sealed, r["failing_since"]))
        return claimed

    async def record_attempts(self, deliveries: Sequence[Delivery],
                              attempts: Sequence[DeliveryAttempt]) -> None:
        await self._save_deliveries(deliveries)
        if attempts:
            await self._conn.execute(insert(webhook_attempts), [
                {k: v for k, v in a.__dict__.items() if k != "webhook_id"}
                | {"outcome": str(a.outcome)} for a in attempts])

    async def endpoints_succeeded(self, endpoint_ids: Sequence[UUID]) -> None:
        if endpoint_ids:
            await self._conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id.in_(list(endpoint_ids)),
                       webhook_endpoints.c.failing_since.is_not(None))
                .values(failing_since=None))

    async def endpoints_failed(self, endpoint_ids: Sequence[UUID], now: datetime) -> None:
        if endpoint_ids:
            await self._conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id.in_(list(endpoint_ids)),
                       webhook_endpoints.c.failing_since.is_(None))
                .values(failing_since=now))

    async def list_attempts(self, endpoint_id: UUID,
                            page: PageRequest) -> Page[DeliveryAttempt]:
        stmt = keyset(select(webhook_attempts).where(webhook_attempts.c.endpoint_id == endpoint_id),
                      ATTEMPT_SORTS, webhook_attempts.c.id, page)
        rows = (await self._conn.execute(stmt)).mappings().all()
        return to_page(rows, page, _attempt,
                       lambda r: (r["attempted_at"], r["id"]))

    async def delivery_counts(self) -> Mapping[str, int]:
        rows = await self._conn.execute(select(webhook_deliveries.c.state, func.count())
                                        .group_by(webhook_deliveries.c.state))
        return {state: int(n) for state, n in rows.all()}

    async def prune_attempts(self, before: datetime, limit: int) -> int:
        a, d = webhook_attempts, webhook_deliveries
        old, newer = a.alias("old"), a.alias("newer")
        latest = ~select(newer.c.id).where(newer.c.delivery_id == old.c.delivery_id,
                                           newer.c.number > old.c.number) \
            .correlate(old).exists()
        kept = select(d.c.id).where(d.c.id == old.c.delivery_id,
                                    d.c.state != DeliveryState.DELIVERED.value, latest) \
            .correlate(old).exists()
        doomed = select(old.c.id).where(old.c.attempted_at < before, ~kept).limit(limit)
        result = await self._conn.execute(delete(a).where(a.c.id.in_(doomed)))
        return int(result.rowcount or 0)

    async def attempt_counts(self) -> Mapping[str, int]:
        rows = await self._conn.execute(select(webhook_attempts.c.outcome, func.count())
                                        .group_by(webhook_attempts.c.outcome))
        return {outcome: int(n) for outcome, n in rows.all()}
