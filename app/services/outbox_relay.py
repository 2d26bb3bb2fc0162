"""The outbox relay: claims a batch of unpublished events, lets every consumer stage its
work (webhook deliveries, notifications, e-mails) in the same transaction, and marks the
batch published before committing. A crash before the commit leaves the batch unpublished
and nothing staged; another relay takes it again."""

from __future__ import annotations

from collections.abc import Sequence

from app.services.ports import Clock, RequestContext
from app.services.ports.outbox import OutboxConsumer
from app.services.ports.unit_of_work import UnitOfWorkFactory

WORKER = RequestContext(principal=None, request_id="worker")


class OutboxRelay:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 consumers: Sequence[OutboxConsumer], batch_size: int = 200) -> None:
        self._uow = uow
        self._clock = clock
        self._consumers = tuple(consumers)
        self._batch_size = batch_size

    @property
    def consumers(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._consumers)

    async def relay_batch(self) -> int:
        """Relay one batch; the number of events published (0: nothing was waiting)."""
        async with self._uow(WORKER) as uow:
            events = await uow.outbox.claim(self._batch_size)
            if not events:
                return 0
            for consumer in self._consumers:
                await consumer.consume(uow, events)
            await uow.outbox.mark_published([e.id for e in events], self._clock.now())
            await uow.commit()
        return len(events)

    async def drain(self) -> int:
        total = 0
        while n := await self.relay_batch():
            total += n
        return total
