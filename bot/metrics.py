"""Prometheus metrics shared by the engine, the adapters and the scheduler (served on /metrics)."""

from prometheus_client import Counter, Histogram

UPDATES = Counter("optout_updates_total", "Platform updates handled", ["platform", "outcome"])
STEP_LATENCY = Histogram(
    "optout_engine_step_seconds",
    "Time the engine takes for one event, storage included",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
REMINDERS = Counter("optout_reminders_total", "Reminders by result", ["platform", "result"])
ERRORS = Counter("optout_errors_total", "Errors by kind", ["kind"])
RETENTION_DELETED = Counter("optout_retention_deleted_total", "Users deleted after RETENTION_DAYS without activity")
