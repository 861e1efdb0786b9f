"""Prometheus metrics of one service process, in a registry of its own (one per app)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

API_PREFIX = "/api/v1"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "haze_http_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "haze_http_request_seconds",
            "HTTP request handling time.",
            ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=self.registry,
        )
        self.board_revision = Gauge(
            "haze_list_revision", "Published list revision on the board.", registry=self.registry
        )
        self.board_enterprises = Gauge(
            "haze_list_enterprises", "Enterprises on the board.", registry=self.registry
        )
        self.dead_letters = Gauge(
            "haze_dead_letters", "Records dead-lettered by this process.", registry=self.registry
        )
        self.consumer_lag = Gauge(
            "haze_consumer_lag",
            "Records behind the end of the partition after the last batch.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "haze_consumer_batch_records",
            "Records per batch handled.",
            ["topic"],
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "haze_consumer_batch_seconds",
            "Time to handle and commit a batch.",
            ["topic"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.consumer_errors = Counter(
            "haze_consumer_errors",
            "Batches that failed on an infrastructure error (database, broker) and were retried.",
            ["topic"],
            registry=self.registry,
        )
        self.poison_records = Counter(
            "haze_consumer_poison_records",
            "Records dead-lettered because handling them raised (isolated by splitting).",
            ["topic"],
            registry=self.registry,
        )
        self.batch_splits = Counter(
            "haze_consumer_batch_splits",
            "Batches split in two to isolate the records a handler raised on.",
            ["topic"],
            registry=self.registry,
        )
        self.topic_dead_letters = Counter(
            "haze_consumer_dead_letters",
            "Records dead-lettered, by the topic they came from.",
            ["topic"],
            registry=self.registry,
        )
        self.consumer_up = Gauge(
            "haze_consumer_up",
            "1 when the topic's consumer reached Kafka, holds partitions and is not retrying"
            " a failed batch.",
            ["topic"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "haze_outbox_pending",
            "Outbox rows left unpublished by this process's last relay run (0: drained).",
            registry=self.registry,
        )
        self.outbox_failures = Counter(
            "haze_outbox_failures",
            "Outbox rows whose publish failed (kept and retried).",
            registry=self.registry,
        )

        self.notice_attempts = Counter(
            "haze_notice_attempts",
            "Attempts to deliver a notice, by channel and outcome (delivered, retry, gone, "
            "failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.notices_dead = Counter(
            "haze_notices_dead",
            "Deliveries given up (failed for good, or undelivered past HAZE_NOTIFY_GIVE_UP_HOURS).",
            ["channel"],
            registry=self.registry,
        )

        # HJ 212 gateway (service.gateway.server)
        self.gateway_accepted = Counter(
            "haze_gateway_accepted",
            "Data packets the sink took durably (each answered with 9014 if it asked).",
            registry=self.registry,
        )
        self.gateway_refused = Counter(
            "haze_gateway_refused",
            "Packets refused, never stored, by reason (framing, length, oversized, crc, "
            "encoding, syntax, unknown_mn, password, cn).",
            ["reason"],
            registry=self.registry,
        )
        self.gateway_sink_failures = Counter(
            "haze_gateway_sink_failures",
            "Batches the sink failed to take (their packets left unanswered: loggers retry).",
            registry=self.registry,
        )
        self.gateway_unanswered = Counter(
            "haze_gateway_unanswered",
            "Data packets left unanswered because the sink failed.",
            registry=self.registry,
        )
        self.gateway_closed = Counter(
            "haze_gateway_connections_closed",
            "Logger connections the gateway closed, by reason (idle, oversized, limit, "
            "slow_reader, stop).",
            ["reason"],
            registry=self.registry,
        )
        self.gateway_connections = Gauge(
            "haze_gateway_connections", "Logger connections open now.", registry=self.registry
        )
        self.gateway_batch = Histogram(
            "haze_gateway_batch_packets",
            "Packets per batch handed to the sink.",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000),
            registry=self.registry,
        )

    def follow(
        self,
        *,
        revision: Callable[[], float],
        enterprises: Callable[[], float],
        dead_letters: Callable[[], float],
    ) -> None:
        """Read the board's revision and size and the dead letters from the process whenever
        the metrics are collected, in the API and in ``haze consume`` alike."""
        self.board_revision.set_function(revision)
        self.board_enterprises.set_function(enterprises)
        self.dead_letters.set_function(dead_letters)

    def follow_compliance(self, counts: dict[str, int]) -> None:
        """The compliance check's counts (intervals judged, late values, findings raised and
        cleared), read when the metrics are collected."""
        gauge = Gauge(
            "haze_compliance_counts",
            "The compliance check since start: intervals judged, values that came after their "
            "interval was judged, findings raised and cleared.",
            ["what"],
            registry=self.registry,
        )
        for what in counts:
            gauge.labels(what=what).set_function(lambda what=what: counts[what])


def render(metrics: Metrics) -> tuple[bytes, str]:
    return generate_latest(metrics.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI, cheap)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            matched = scope.get("route")
            route = getattr(matched, "path", "unmatched")
            if matched is not None and scope["path"].startswith(API_PREFIX):
                route = API_PREFIX + route  # FastAPI gives the router's own path
            key = (scope["method"], route, status[0])
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    self.metrics.requests.labels(scope["method"], route, str(status[0])),
                    self.metrics.latency.labels(route),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - started)
