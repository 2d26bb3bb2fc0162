"""Keeping the webhook delivery log to a retention period: every attempt is logged, so an
endpoint that receives a steady stream of events grows the log without end. A periodic
job removes attempts older than the retention, in batches (each its own transaction, so
deliveries are not held up behind one long delete), but keeps the latest attempt of every
delivery that may still be sent again: its outcome is what a redelivery or the next retry
is judged against."""

from __future__ import annotations

from datetime import timedelta

from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory

BATCH = 5000


class WebhookLogRetention:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, retention: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self.retention = retention

    async def prune(self, ctx: RequestContext) -> int:
        """Remove the attempts past the retention; the number removed."""
        before = self._clock.now() - self.retention
        removed = 0
        while True:
            async with self._uow(ctx) as uow:
                count = await uow.webhooks.prune_attempts(before, BATCH)
                await uow.commit()
            removed += count
            if count < BATCH:
                return removed
