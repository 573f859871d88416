"""Celery Beat's periodic jobs. ``python -m workers.beat`` loads this schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from geulpi_tasks.settings import Settings
from workers.task_names import (
    ENSURE_PRODUCTION_MODEL,
    EVALUATE_ALERTS,
    NIGHTLY_RETRAIN,
    SCAN_DRIFT,
    STOP_EXPIRED_EXPERIMENTS,
)


def nightly_crontab(at: str) -> Any:
    """Celery crontab for a UTC "HH:MM" (GEULPI_RETRAIN_AT); ValueError naming the variable otherwise."""
    try:
        hour, minute = (int(part) for part in at.split(":"))
    except ValueError as err:
        raise ValueError(f"GEULPI_RETRAIN_AT must be HH:MM (UTC), not {at!r}") from err
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"GEULPI_RETRAIN_AT must be HH:MM (UTC), not {at!r}")
    return crontab(hour=hour, minute=minute)


def build_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's schedule, with the intervals and the nightly time taken from ``settings``."""
    return {
        # Self-healing: if the registry lost its production classifier (new store, deleted alias), train one.
        "ensure-production-model": {"task": ENSURE_PRODUCTION_MODEL, "schedule": timedelta(minutes=10)},
        # A/B experiments end when their duration_hours has passed (checked every minute).
        "stop-expired-experiments": {"task": STOP_EXPIRED_EXPERIMENTS, "schedule": timedelta(minutes=1)},
        # Monitoring: recent predictions vs the serving version's training reference
        # (GEULPI_DRIFT_SCAN_INTERVAL, 15 min).
        "scan-drift": {"task": SCAN_DRIFT, "schedule": timedelta(seconds=settings.drift_scan_interval_s)},
        # Monitoring: alert rules over their windows, pending -> firing -> resolved
        # (GEULPI_ALERT_EVAL_INTERVAL, 1 min).
        "evaluate-alerts": {"task": EVALUATE_ALERTS, "schedule": timedelta(seconds=settings.alert_eval_interval_s)},
        # Nightly retraining on generated data + feedback (GEULPI_RETRAIN_AT, 02:00 UTC); the candidate goes to
        # Staging and reaches Production only through the promotion gates.
        "nightly-retrain": {"task": NIGHTLY_RETRAIN, "schedule": nightly_crontab(settings.retrain_at)},
    }
