"""Training-queue tasks. Late acknowledgement + reject on worker loss: a job whose worker dies is redelivered."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from kombu.exceptions import OperationalError

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.training.bootstrap import ensure_production_model
from geulpi_tasks.training.outage import run_training_job_through_outages
from geulpi_tasks.training.search import run_search_helper
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.lifecycle_tasks import approval_hook
from workers.task_names import ENSURE_PRODUCTION_MODEL, NIGHTLY_RETRAIN, RUN_SEARCH_TRIALS, TRAIN_MODEL

log = logging.getLogger(__name__)


@app.task(name=ENSURE_PRODUCTION_MODEL, acks_late=True, reject_on_worker_lost=True, track_started=True)
@domain_errors
def ensure_production(**_: Any) -> dict[str, Any]:
    settings = settings_of(app)
    ref, trained = ensure_production_model(
        tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
        model_name=settings.model_name, n_samples=settings.bootstrap_samples, n_trees=settings.bootstrap_trees,
        seed=settings.seed)
    return {"modelName": ref.name, "version": ref.version, "semver": ref.semver, "trained": trained}


def _spawn_search_helpers(spec: dict[str, Any], count: int) -> None:
    """Other training workers join the job's Optuna study; the job does not wait for them to start."""
    for _ in range(count):
        run_search_trials.apply_async(args=[spec])


@app.task(name=TRAIN_MODEL, bind=True, acks_late=True, reject_on_worker_lost=True, track_started=True)
@domain_errors
def train_model(self: Any, request: dict[str, Any]) -> dict[str, Any]:
    """One training job (``POST /models/train``); progress goes to the task state as PROGRESS meta."""
    return _run_job(self, request)


def _run_job(task: Any, request: dict[str, Any]) -> dict[str, Any]:
    settings = settings_of(app)

    def progress(meta: dict[str, Any]) -> None:
        try:
            task.update_state(state="PROGRESS", meta=meta)
            # Flower builds its task view from events: a custom "task-progress" event puts the task in state
            # PROGRESS there, but Flower's API and pages show only Celery's known task fields and drop the extra
            # ones. So the progress also rides in `result` (JSON, the same fields as /tasks/<id>), until the real
            # result replaces it.
            task.send_event("task-progress", result=json.dumps(meta, default=str), **meta)
        except REDIS_OUTAGE_ERRORS + (OperationalError,) as err:  # progress is a view; the job goes on
            log.warning("progress update lost: %s", err)

    client = redis.Redis.from_url(settings.redis_url)
    try:
        # The job, not whoever asked for it, requests approval: any API key may then approve it.
        request_approval = approval_hook(settings, client, requested_by=f"job:{task.request.id}",
                                         source="training")
        return run_training_job_through_outages(
            request, max_wait_s=settings.training_outage_wait_s, job_id=task.request.id,
            tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
            redis_url=settings.redis_url, key_prefix=settings.key_prefix, progress=progress, seed=settings.seed,
            default_samples=settings.training_samples, heartbeat_s=settings.trial_heartbeat_s,
            gates=PromotionGates.from_settings(settings), spawn_helpers=_spawn_search_helpers,
            worker_name=task.request.hostname, request_approval=request_approval)
    finally:
        client.close()


@app.task(name=RUN_SEARCH_TRIALS, bind=True, acks_late=True, reject_on_worker_lost=True, track_started=True)
@domain_errors
def run_search_trials(self: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """A helper's share of a distributed Optuna study (``parallelism`` > 1)."""
    settings = settings_of(app)
    return run_search_helper(spec, redis_url=settings.redis_url, key_prefix=settings.key_prefix,
                             heartbeat_s=settings.trial_heartbeat_s, worker_name=self.request.hostname)


@app.task(name=NIGHTLY_RETRAIN, bind=True, acks_late=True, reject_on_worker_lost=True, track_started=True)
@domain_errors
def nightly_retrain(self: Any) -> dict[str, Any]:
    """Beat's nightly job: retrain the served classifier on generated data plus feedback; the candidate goes to
    Staging and reaches Production only through the promotion gates (and, with GEULPI_REQUIRE_APPROVAL, stops at
    a pending request there)."""
    settings = settings_of(app)
    request = {"model_type": "event_classifier", "optimize": True, "auto_promote": True,
               "n_optimization_trials": settings.retrain_trials, "trigger": "nightly",
               "description": "Nightly retraining on generated events plus user feedback."}
    return _run_job(self, request)  # keyed by this task's id: a redelivered nightly job stays idempotent
