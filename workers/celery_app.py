"""The one Celery app. ``celery -A workers.celery_app`` and every worker command use ``app`` below."""

from __future__ import annotations

import os

from celery import Celery

import celeryconfig
from geulpi_tasks.settings import Settings
from workers.result_backend import use_fast_backend

# Worker logs are not a terminal: MLflow's download progress bars would only add empty warning lines.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

TASK_MODULES = [
    "workers.inference_tasks", "workers.analysis_tasks", "workers.training_tasks", "workers.lifecycle_tasks",
    "workers.experiment_tasks", "workers.monitoring_tasks",
    # signal handlers only: feedback cache and metrics/prediction log
    "workers.feedback_signals", "workers.metrics_signals",
]


def create_celery(settings: Settings) -> Celery:
    celery = Celery("geulpi", set_as_current=False)
    celery.conf.update(celeryconfig.build(settings))
    use_fast_backend(celery)  # issue 13: no extra GET per stored or awaited result (workers/result_backend.py)
    celery.conf.geulpi_settings = settings
    return celery


def settings_of(celery: Celery) -> Settings:
    return celery.conf.geulpi_settings  # type: ignore[no-any-return]


app = create_celery(Settings.from_env())
app.set_current()
app.conf.imports = TASK_MODULES
