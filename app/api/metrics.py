"""Prometheus metrics: requests by route and status, latency, database pool use, sign-in
attempts by outcome; and, read from the database at each scrape (workers are other
processes), the outbox backlog, webhook deliveries and attempts, and job runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.services.jobs import WorkerSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _PoolCollector(Collector):
    def __init__(self, pool_status: Callable[[], dict[str, int]]) -> None:
        self._pool_status = pool_status

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("accord_db_pool_connections",
                                  "Database pool connections by state", labels=["state"])
        for state, value in self._pool_status().items():
            # SQLAlchemy's overflow counts from -pool_size up while the pool is still
            # filling; connections beyond the pool are never fewer than none.
            gauge.add_metric([state], max(0, value) if state == "overflow" else value)
        yield gauge


class _WorkerCollector(Collector):
    """Figures of the last snapshot handed to ``render``."""

    def __init__(self) -> None:
        self.snapshot: WorkerSnapshot | None = None

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        if snap is None:
            return
        yield GaugeMetricFamily("accord_outbox_backlog", "Events not yet relayed",
                                value=snap.backlog.unpublished)
        yield GaugeMetricFamily("accord_outbox_oldest_unpublished_age_seconds",
                                "Age of the oldest event not yet relayed (0: none waits)",
                                value=snap.oldest_age_s)
        deliveries = GaugeMetricFamily("accord_webhook_deliveries",
                                       "Webhook deliveries by state", labels=["state"])
        for state in ("pending", "delivered", "failed"):
            deliveries.add_metric([state], snap.deliveries.get(state, 0))
        yield deliveries
        attempts = CounterMetricFamily("accord_webhook_delivery_attempts",
                                       "Webhook delivery attempts by outcome",
                                       labels=["outcome"])
        for outcome in ("succeeded", "failed", "gone"):
            attempts.add_metric([outcome], snap.attempts.get(outcome, 0))
        yield attempts
        runs = CounterMetricFamily("accord_job_runs", "Periodic job runs by outcome",
                                   labels=["job", "outcome"])
        last = GaugeMetricFamily("accord_job_last_finished_timestamp_seconds",
                                 "When each periodic job last finished", labels=["job"])
        for job in snap.jobs:
            runs.add_metric([job.name, "ok"], job.runs - job.failures)
            runs.add_metric([job.name, "error"], job.failures)
            if job.last_finished_at is not None:
                last.add_metric([job.name], job.last_finished_at.timestamp())
        yield runs
        yield last
        if snap.worker_seen_age_s is not None:
            yield GaugeMetricFamily("accord_worker_last_seen_age_seconds",
                                    "Seconds since a worker last beat",
                                    value=snap.worker_seen_age_s)


class HttpMetrics:
    """One registry per app, so several apps (tests) can live in one process."""

    def __init__(self, pool_status: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("accord_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("accord_http_request_duration_seconds",
                                 "HTTP request latency", ["method", "route"],
                                 registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.login_attempts = Counter("accord_login_attempts_total",
                                      "Sign-in attempts by outcome (success, "
                                      "invalid_credentials, throttled)", ["outcome"],
                                      registry=self.registry)
        self.registry.register(_PoolCollector(pool_status))
        self._worker = _WorkerCollector()
        self.registry.register(self._worker)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self, worker: WorkerSnapshot | None = None) -> bytes:
        self._worker.snapshot = worker
        return generate_latest(self.registry)
