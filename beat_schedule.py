"""Celery Beat's periodic jobs. ``python -m workers.beat`` loads this schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workers.task_names import ENSURE_PRODUCTION_MODEL

SCHEDULE: dict[str, dict[str, Any]] = {
    # Self-healing: if the registry lost its production classifier (new store, deleted alias), train one.
    "ensure-production-model": {"task": ENSURE_PRODUCTION_MODEL, "schedule": timedelta(minutes=10)},
}
