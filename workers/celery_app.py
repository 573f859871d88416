"""The one Celery app that every task is registered on, configured by whoever starts the process.

Worker and Beat commands call ``configure(app, Settings.from_env())`` in their ``main``; the ``celery`` command
(Flower, ``inspect``) goes through ``workers.celery_cli``; the API and tests build client apps with
``create_celery(settings)``. Nothing reads the environment when this module is imported.
"""

from __future__ import annotations

import os

from celery import Celery

import celeryconfig
from geulpi_tasks.settings import Settings
from workers.json_serializer import use_fast_json
from workers.result_backend import use_fast_backend

# Worker logs are not a terminal: MLflow's download progress bars would only add empty warning lines.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

TASK_MODULES = [
    "workers.inference_tasks", "workers.analysis_tasks", "workers.training_tasks", "workers.lifecycle_tasks",
    "workers.experiment_tasks", "workers.monitoring_tasks",
    # signal handlers only: feedback cache and metrics/prediction log; shadow deployments; traces and JSON logs
    "workers.feedback_signals", "workers.metrics_signals", "workers.shadow_signals", "workers.telemetry",
]


def configure(celery: Celery, settings: Settings) -> Celery:
    """Apply ``settings`` (queues, routes, transports, timeouts) to ``celery`` and keep them for its tasks."""
    celery.conf.update(celeryconfig.build(settings))
    use_fast_backend(celery)  # issue 13: no extra GET per stored or awaited result (workers/result_backend.py)
    use_fast_json()  # issue 13: task messages and results encoded with orjson (workers/json_serializer.py)
    celery.conf.geulpi_settings = settings
    return celery


def create_celery(settings: Settings) -> Celery:
    """A separate configured app, for processes that only send tasks (the API, tests, benchmarks)."""
    return configure(Celery("geulpi", set_as_current=False), settings)


def settings_of(celery: Celery) -> Settings:
    return celery.conf.geulpi_settings  # type: ignore[no-any-return]


app = Celery("geulpi", set_as_current=False)
app.set_current()
app.conf.imports = TASK_MODULES
