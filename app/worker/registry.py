"""What the worker runs, as three lists: the outbox consumers (each stages its work in the
relay's transaction), the periodic jobs (each run by one worker at a time) and the bulk
jobs (imports, exports: long, on a lane of their own). A feature plugs in with one line
here; ``accord escalate`` runs the periodic jobs once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from app.services.jobs import Job
from app.services.ports import RequestContext
from app.services.ports.outbox import OutboxConsumer
from app.services.webhooks import WebhookConsumer

if TYPE_CHECKING:
    from app.api.container import Services


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    call: Callable[[Services, RequestContext], Awaitable[int]]
    summary: str  # what `accord escalate` prints after the count


CONSUMERS: list[Callable[[Services], OutboxConsumer]] = [
    lambda s: WebhookConsumer(s.clock),
    lambda s: s.notification_consumer,
]

JOBS: list[PeriodicJob] = [
    PeriodicJob("escalate_overdue_approvals", timedelta(minutes=5),
                lambda s, ctx: s.change_requests.escalate_overdue(ctx),
                "overdue approval step(s) escalated"),
    PeriodicJob("escalate_overdue_follow_ups", timedelta(minutes=5),
                lambda s, ctx: s.handovers.escalate_overdue_follow_ups(ctx),
                "overdue handover follow-up(s) escalated"),
    PeriodicJob("announce_feedback_breaches", timedelta(minutes=5),
                lambda s, ctx: s.feedback.announce_breaches(ctx),
                "feedback SLA breach(es) announced"),
    PeriodicJob("send_automatic_surveys", timedelta(minutes=15),
                lambda s, ctx: s.surveys.run_automation(ctx),
                "survey invitation(s) sent"),
    PeriodicJob("check_customer_health", timedelta(hours=1),
                lambda s, ctx: s.customer_health.check_health(ctx),
                "customer(s) fell below the health threshold"),
    PeriodicJob("announce_overdue_contacts", timedelta(minutes=15),
                lambda s, ctx: s.interactions.announce_overdue(ctx),
                "overdue customer contact(s) announced"),
    PeriodicJob("announce_training_lapses", timedelta(hours=1),
                lambda s, ctx: _sum(s.training.announce_lapses(ctx)),
                "training completion(s) lapsed or about to lapse announced"),
    PeriodicJob("send_reminders", timedelta(minutes=5),
                lambda s, ctx: s.reminders.send_reminders(ctx),
                "reminder(s) announced"),
    PeriodicJob("send_pending_emails", timedelta(seconds=30),
                lambda s, ctx: s.emails.send_pending_emails(ctx),
                "e-mail(s) sent"),
    PeriodicJob("prune_webhook_log", timedelta(hours=1),
                lambda s, ctx: s.webhook_log.prune(ctx),
                "webhook delivery attempt(s) past the retention pruned"),
]

# Long jobs, on the worker's bulk lane (its own task): a million-row import or export runs
# for minutes and would otherwise hold back the jobs above and the relay. Each call claims
# and runs at most one queued job (the job's own lease keeps it to one worker); the number
# run.
BULK: list[Callable[[Services], Callable[[], Awaitable[int]]]] = [
    lambda s: lambda: s.imports.run_queued(limit=1),
    lambda s: lambda: s.exports.run_queued(limit=1),
]


async def _sum(counts: Awaitable[tuple[int, ...]]) -> int:
    return sum(await counts)


def consumers(services: Services) -> list[OutboxConsumer]:
    return [make(services) for make in CONSUMERS]


def bulk(services: Services) -> list[Callable[[], Awaitable[int]]]:
    return [make(services) for make in BULK]


def jobs(services: Services) -> list[Job]:
    def bound(job: PeriodicJob) -> Job:
        return Job(job.name, job.every, lambda ctx: job.call(services, ctx))

    return [bound(job) for job in JOBS]
