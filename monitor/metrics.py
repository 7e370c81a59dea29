"""Prometheus metrics, all prefixed `monitor_`, in a registry of their own (tests build many)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# (outbox depth, oldest pending age in seconds, feeds broken); read from the database at scrape time.
Gauges = Callable[[datetime], tuple[int, float, int]]


class _StateCollector(Collector):
    def __init__(self, read: Gauges) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, oldest, broken = self._read(datetime.now(UTC))
        yield GaugeMetricFamily("monitor_outbox_depth", "Deliveries waiting to be sent.", value=depth)
        yield GaugeMetricFamily(
            "monitor_outbox_oldest_age_seconds", "Age of the oldest undelivered alert.", value=oldest
        )
        yield GaugeMetricFamily("monitor_feeds_broken", "Feeds failing or gone.", value=broken)


class Metrics:
    def __init__(self, replica: str = "") -> None:
        self.registry = CollectorRegistry()
        self.replica = replica
        self.claims = Counter(
            "monitor_feed_claims",
            "Feeds claimed for polling, by the replica that claimed them.",
            ["replica"],
            registry=self.registry,
        )
        self.polls = Counter("monitor_polls", "Feed polls by outcome.", ["outcome"], registry=self.registry)
        self.fetch_latency = Histogram(
            "monitor_fetch_latency_seconds",
            "Time to fetch a feed.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.items_new = Counter("monitor_items_new", "New items stored.", registry=self.registry)
        self.events = Counter(
            "monitor_events", "Events detected by type.", ["event_type"], registry=self.registry
        )
        self.deliveries = Counter(
            "monitor_deliveries", "Delivery attempts by outcome.", ["outcome"], registry=self.registry
        )
        self.lost = Counter(
            "monitor_deliveries_lost",
            "Deliveries that went dead without being sent, by webhook and why.",
            ["webhook", "reason"],
            registry=self.registry,
        )

    def watch_state(self, read: Gauges) -> None:
        self.registry.register(_StateCollector(read))

    def polled(self, feed: str, outcome: str, new_items: int, event_types: Iterable[str | None]) -> None:
        self.polls.labels(outcome=outcome).inc()
        if new_items:
            self.items_new.inc(new_items)
        for event_type in event_types:
            self.events.labels(event_type=event_type or "unknown").inc()

    def claimed(self, replica: str, count: int) -> None:
        self.claims.labels(replica=replica).inc(count)

    def delivered(self, webhook: str, outcome: str, count: int = 1) -> None:
        self.deliveries.labels(outcome=outcome).inc(count)

    def lost_delivery(self, webhook: str, reason: str, count: int = 1) -> None:
        self.lost.labels(webhook=webhook, reason=reason).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
