"""Monitoring-queue tasks of A/B experiments: Beat stops the experiments whose duration has passed."""

from __future__ import annotations

from typing import Any

import redis

from geulpi_tasks.experiments.lifecycle import AnalysisConfig, stop_expired_experiments
from geulpi_tasks.registry.gates import PromotionGates
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.lifecycle_tasks import approval_hook
from workers.task_names import STOP_EXPIRED_EXPERIMENTS


@app.task(name=STOP_EXPIRED_EXPERIMENTS)
@domain_errors
def stop_expired(**_: Any) -> dict[str, Any]:
    settings = settings_of(app)
    client = redis.Redis.from_url(settings.redis_url)
    try:
        stopped = stop_expired_experiments(client, settings.key_prefix, AnalysisConfig.from_settings(settings),
                                           tracking_uri=settings.effective_tracking_uri,
                                           gates=PromotionGates.from_settings(settings),
                                           request_approval=approval_hook(settings, client,
                                                                          requested_by="beat:experiments",
                                                                          source="experiment"))
    finally:
        client.close()
    return {"stopped": stopped}
