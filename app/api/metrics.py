"""Prometheus metrics: requests by route and status, latency, database pool use, sign-in
attempts by outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _PoolCollector(Collector):
    def __init__(self, pool_status: Callable[[], dict[str, int]]) -> None:
        self._pool_status = pool_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("accord_db_pool_connections",
                                  "Database pool connections by state", labels=["state"])
        for state, value in self._pool_status().items():
            # SQLAlchemy's overflow counts from -pool_size up while the pool is still
            # filling; connections beyond the pool are never fewer than none.
            gauge.add_metric([state], max(0, value) if state == "overflow" else value)
        yield gauge


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

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
