"""Training jobs: data → text stage → searched stage-2 model → calibration → held-out metrics → MLflow version.

A job is idempotent by its id: its state lives at ``<prefix>:training:job:<id>`` in Redis (``state.JobState``),
and its MLflow run carries the tag ``geulpi.job_id``. A redelivered job (its worker died) first looks for a version
registered by an earlier attempt and finishes from there, so one job never registers two versions; its Optuna study
(named after the job) continues where it stood.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis

from geulpi_tasks.features.event_features import FEATURE_SCHEMA_VERSION
from geulpi_tasks.models.event_classifier import TextParams, TrainedClassifier
from geulpi_tasks.models.onnx_export import stage2_family
from geulpi_tasks.privacy.erasure import record_trained_on
from geulpi_tasks.registry.gates import RequestApproval
from geulpi_tasks.training.context import JobContext, Progress, SpawnHelpers
from geulpi_tasks.training.data import TrainingRows, load_training_rows
from geulpi_tasks.training.keys import job_key
from geulpi_tasks.training.lease import JobLease
from geulpi_tasks.training.measure import calibrate_and_evaluate
from geulpi_tasks.training.register import (
    JOB_TAG,
    Candidate,
    auto_promote,
    find_job_version,
    jsonable,
    register_candidate,
    trial_cpu_seconds,
)
from geulpi_tasks.training.request import TrainingRequest, parse_training_request
from geulpi_tasks.training.search import fit_stage2, select_stage2
from geulpi_tasks.training.state import JobState
from geulpi_tasks.training.text_stage import TextStage, fit_priority_model, fit_text_stage, stage2_features

__all__ = ["JOB_TAG", "DEFAULT_SAMPLES", "run_training_job"]

DEFAULT_SAMPLES = 6000


def run_training_job(request: dict[str, Any], *, job_id: str, tracking_uri: str, artifact_root: Path,
                     redis_url: str, key_prefix: str, progress: Progress, seed: int = 7,
                     default_samples: int = DEFAULT_SAMPLES, heartbeat_s: float = 5.0, gates: Any = None,
                     spawn_helpers: SpawnHelpers | None = None, worker_name: str | None = None,
                     request_approval: RequestApproval | None = None) -> dict[str, Any]:
    """Train, measure on the held-out test split, register (and auto-promote if asked) one version.

    ``worker_name`` (the Celery hostname) is recorded on the search trials this worker runs. ``request_approval``
    (promotions need approval): an auto-promoted version that passes the gates stops at a pending request.
    Returns ``{jobId, model_name, version, semver, status, metrics, search, data, promotion, ...}``. Idempotent by
    ``job_id`` (see the module docstring). Raises InvalidInput for a bad request, Unavailable when the registry
    or Redis cannot be reached.
    """
    req = parse_training_request(request)
    client = redis.Redis.from_url(redis_url)
    ctx = JobContext(job_id=job_id, tracking_uri=tracking_uri, artifact_root=artifact_root, redis_url=redis_url,
                     redis=client, key_prefix=key_prefix, progress=progress,
                     seed=req.seed if req.seed is not None else seed, default_samples=default_samples,
                     heartbeat_s=heartbeat_s, gates=gates, spawn_helpers=spawn_helpers, worker_name=worker_name,
                     request_approval=request_approval)
    state = JobState(client, key_prefix, job_id)
    done = state.result()
    if done is not None:
        return {**done, "redelivered": True}
    attempt = state.begin_attempt()
    with JobLease(client, job_key(key_prefix, job_id, "lease"), heartbeat_s) as lease:
        if not lease.acquire(lambda: state.result() is not None):
            return {**(state.result() or {}), "redelivered": True}
        done = state.result()
        if done is not None:
            return {**done, "redelivered": True}
        earlier = find_job_version(tracking_uri, job_id)
        if earlier is not None:
            return _finish_earlier_version(req, ctx, state, attempt, earlier)
        return _train(req, ctx, state, attempt)


def _train(req: TrainingRequest, ctx: JobContext, state: JobState, attempt: int) -> dict[str, Any]:
    """The job's phases, under its lease: data, text stage, stage-2 search and fit, evaluation, registration."""
    state.mark_running(req.model_type)
    started = time.perf_counter()
    cpu_started = time.process_time()
    ctx.phase("data", trial=0, n_trials=req.n_optimization_trials)
    rows = load_training_rows(req, redis_client=ctx.redis, key_prefix=ctx.key_prefix, seed=ctx.seed,
                              default_samples=ctx.default_samples)
    ctx.phase("text_model", trial=0, n_trials=req.n_optimization_trials)
    text = fit_text_stage(rows.train, rows.validation, rows.test, label=req.label_key, classes=req.classes,
                          seed=ctx.seed)
    state.save_stage2(text.data.to_bytes())
    state.save_feedback_users(rows.feedback_users)
    chosen, chosen_params, search = select_stage2(req, text.data, ctx)
    stage2, compression = fit_stage2(req, chosen, text.data, ctx, search.get("best_value"))
    ctx.phase("evaluate", best_value=search.get("best_value"))
    candidate = _candidate(req, ctx, text, rows, stage2, chosen_params, search, compression)
    ref, semver, scalar = register_candidate(req, candidate, rows, ctx, started=started, cpu_started=cpu_started)
    state.mark_registered(ref.version)
    record_trained_on(ctx.redis, ctx.key_prefix, rows.feedback_users, req.model_type, ref.version)
    result: dict[str, Any] = {
        "jobId": ctx.job_id, "model_name": req.model_type, "version": ref.version, "semver": semver,
        "run_id": ref.run_id, "metrics": candidate.metrics, "search": jsonable(_short_search(search)),
        "compression": compression,
        "data": {k: candidate.fingerprint[k] for k in ("train", "validation", "test")} | rows.info,
        "attempt": attempt,
    }
    result["promotion"] = auto_promote(req, ctx.tracking_uri, req.model_type, ref.version, scalar, ctx.gates,
                                       ctx.request_approval)
    result["status"] = _status(result["promotion"])
    state.finish(jsonable(result))
    ctx.phase("done", best_value=search.get("best_value"))
    return jsonable(result)  # type: ignore[no-any-return]


def _candidate(req: TrainingRequest, ctx: JobContext, text: TextStage, rows: TrainingRows, stage2: Any,
               stage2_params: dict[str, Any], search: dict[str, Any], compression: dict[str, Any] | None
               ) -> Candidate:
    """Calibrate and score the fitted stages, and describe them the way the registry records them."""
    calibration = (stage2_features(text, rows.realistic_holdout, label=req.label_key, classes=req.classes)
                   if rows.realistic_holdout else None)
    temperature, metrics = calibrate_and_evaluate(stage2, text.data, req.classes, calibration)
    model = TrainedClassifier(vectorizer=text.vectorizer, text_model=text.text_model, forest=stage2,
                              temperature=temperature, classes=req.classes)
    model.params = {
        "model_type": req.model_type, "stage2_family": stage2_family(stage2), "served_runtime": "onnxruntime",
        "stage2": stage2_params, "text": {**TextParams().__dict__, "char_ngrams": list(TextParams().char_ngrams)},
        "temperature": temperature, "seed": ctx.seed, "feature_schema_version": FEATURE_SCHEMA_VERSION,
        "optimize": req.optimize, "automl": req.automl, "n_optimization_trials": req.n_optimization_trials,
        "parallelism": req.parallelism, "multi_objective": req.multi_objective, "prune_trees": req.prune_trees}
    model.data_fingerprint = rows.fingerprints(req.label_key)
    if req.model_type == "event_classifier":
        model.priority = fit_priority_model(text, rows.train, seed=ctx.seed)
        model.params["learned_priority"] = model.priority is not None
    return Candidate(model=model, metrics=metrics, params=model.params, fingerprint=model.data_fingerprint,
                     search=search, compression=compression)


def _finish_earlier_version(req: TrainingRequest, ctx: JobContext, state: JobState, attempt: int,
                            earlier: tuple[str, str, Any]) -> dict[str, Any]:
    """An earlier attempt registered the version but died before storing the result: finish from there."""
    name, version, run = earlier
    # The attempt that registered may have died before recording whose feedback the version learned from.
    record_trained_on(ctx.redis, ctx.key_prefix, state.feedback_users(), name, version)
    metrics = dict(run.data.metrics)
    resumed: dict[str, Any] = {"jobId": ctx.job_id, "model_name": name, "version": version, "status": "registered",
                               "semver": run.data.tags.get("geulpi.semver"), "metrics": metrics, "attempt": attempt,
                               "resumed": "version registered by an earlier attempt of this job"}
    resumed["promotion"] = auto_promote(req, ctx.tracking_uri, name, version, metrics, ctx.gates,
                                         ctx.request_approval)
    resumed["status"] = _status(resumed["promotion"])
    state.finish(resumed)
    return resumed


def _status(promotion: dict[str, Any] | None) -> str:
    if promotion is None:
        return "registered"
    if promotion.get("promoted"):
        return "promoted_to_production"
    return "pending_approval" if promotion.get("pending_approval") else "staging"


def _short_search(search: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in search.items() if k != "trials"}
    out["n_trials_recorded"] = len(search.get("trials", []))
    # Summed wall time of the trials themselves: the work a search did, whichever workers did it.
    out["trial_seconds_total"] = round(sum(t.get("seconds", 0.0) for t in search.get("trials", [])), 3)
    out["trial_cpu_seconds_total"] = trial_cpu_seconds(search)
    return out
