"""Prometheus metrics shared by the engine, the adapters and the scheduler (served on /metrics)."""

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

UPDATES = Counter("optout_updates_total", "Platform updates handled", ["platform", "outcome"])
STEP_LATENCY = Histogram(
    "optout_engine_step_seconds",
    "Time the engine takes for one event, storage included",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
REMINDERS = Counter("optout_reminders_total", "Reminders by result", ["platform", "result"])
ERRORS = Counter("optout_errors_total", "Errors by kind", ["kind"])
# Updates a platform did not handle because one person sent them faster than they could be answered
# (reason "busy": past their short queue; "stale": a press repeating one already waiting).
UPDATES_DROPPED = Counter("optout_updates_dropped_total", "Updates dropped to keep one person from crowding out others",
                          ["platform", "reason"])
RETENTION_DELETED = Counter("optout_retention_deleted_total", "Users deleted after RETENTION_DAYS without activity")


class InstanceLabelled(Collector):
    """Every metric of ``registry`` with an ``instance`` label added, so that the series of several bot
    instances behind one scrape target (or one dashboard) stay apart. The metrics keep their names and
    labels; only the exposition adds this one, so no part of the bot has to pass it along."""

    def __init__(self, instance: str, registry: Collector = REGISTRY) -> None:
        self._instance = instance
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            for sample in family.samples:
                labelled.add_sample(sample.name, {**sample.labels, "instance": self._instance}, sample.value,
                                    sample.timestamp, sample.exemplar)
            yield labelled
# Sources whose main text changed (kind "changed") or could not be read (not_found, redirect, timeout...).
SOURCE_CHANGES = Counter("optout_source_changes_total", "Guide sources found changed or unreadable by the content watch",
                         ["kind"])
