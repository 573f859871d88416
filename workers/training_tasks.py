"""Training-queue tasks. Late acknowledgement + reject on worker loss: a job whose worker dies is redelivered."""

from __future__ import annotations

from typing import Any

from geulpi_tasks.registry.bootstrap import ensure_production_model
from workers.celery_app import app, settings_of
from workers.inference_tasks import domain_errors
from workers.task_names import ENSURE_PRODUCTION_MODEL


@app.task(name=ENSURE_PRODUCTION_MODEL, acks_late=True, reject_on_worker_lost=True, track_started=True)
@domain_errors
def ensure_production(**_: Any) -> dict[str, Any]:
    settings = settings_of(app)
    ref, trained = ensure_production_model(
        tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
        model_name=settings.model_name, n_samples=settings.bootstrap_samples, n_trees=settings.bootstrap_trees,
        seed=settings.seed)
    return {"modelName": ref.name, "version": ref.version, "semver": ref.semver, "trained": trained}
