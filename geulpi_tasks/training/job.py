"""Training jobs: data → text stage → searched stage-2 model → calibration → held-out metrics → MLflow version.

A job is idempotent by its id: its state lives at ``<prefix>:training:job:<id>`` in Redis, and its MLflow run
carries the tag ``geulpi.job_id``. A redelivered job (its worker died) first looks for a version registered by an
earlier attempt and finishes from there, so one job never registers two versions; its Optuna study (named after
the job) continues where it stood.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.features.event_features import FEATURE_SCHEMA_VERSION, NUMERIC_FEATURES, event_text, numeric_features
from geulpi_tasks.models.event_classifier import (
    ForestParams,
    TextParams,
    TrainedClassifier,
    apply_temperature,
    build_vectorizer,
    data_fingerprint,
    evaluate,
    expected_calibration_error,
    fit_temperature,
)
from geulpi_tasks.models.onnx_export import stage2_family
from geulpi_tasks.models.runtime import ServedClassifier, save_bundle
from geulpi_tasks.monitoring.reference import REFERENCE_ARTIFACT, build_reference
from geulpi_tasks.optimization.search import RANDOM_FOREST, Stage2Data
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.tools.redis_server import REDIS_OUTAGE_ERRORS
from geulpi_tasks.training.request import TrainingRequest, parse_training_request

log = logging.getLogger(__name__)

JOB_TTL_S = 14 * 24 * 3600
# The stage-2 matrices helpers read; deleted when the job ends, this only bounds what a failed job leaves behind.
STAGE2_TTL_S = 24 * 3600
JOB_TAG = "geulpi.job_id"
DEFAULT_SAMPLES = 6000
# A job restarts after at most this many Redis outages before it fails for good.
MAX_OUTAGE_RESTARTS = 5
LATENCY_EVENTS = 200
THROUGHPUT_BATCH = 1000

Progress = Callable[[dict[str, Any]], None]
SpawnHelpers = Callable[[dict[str, Any], int], None]


def job_key(key_prefix: str, job_id: str, part: str = "") -> str:
    return f"{key_prefix}:training:job:{job_id}" + (f":{part}" if part else "")


# ------------------------------------------------------------------------------------------------------------ data
def load_training_rows(request: TrainingRequest, *, redis_client: Any, key_prefix: str, seed: int,
                       default_samples: int) -> tuple[list[dict], list[dict], list[dict], dict[str, Any]]:
    """(train, validation, test, data info). Feedback corrections join the training split only, so the
    held-out test split stays comparable between versions."""
    rows = list(request.training_data) if request.training_data else generate_events(
        request.n_samples or default_samples, seed=seed)
    label = request.label_key
    # Stratify on the label being learned: the splitter groups by "category".
    keyed = [{**r, "category": r[label], "_original_category": r.get("category")} for r in rows if r.get(label)]
    train, val, test = (_unkey(part) for part in split_events(keyed, seed=seed))
    info: dict[str, Any] = {"source": "request" if request.training_data else "generator", "feedback_rows": 0}
    if request.include_feedback:
        try:
            from geulpi_tasks.feedback import list_feedback_rows
        except ImportError:
            info["feedback_note"] = "geulpi_tasks.feedback is not available; trained without feedback rows."
        else:
            feedback = [r for r in list_feedback_rows(redis_client, key_prefix) if r.get(label) in request.classes]
            train = train + feedback
            info["feedback_rows"] = len(feedback)
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len({r[label] for r in part}) < 2:
            raise InvalidInput(f"The {name} split has fewer than two labels; send more varied training data.",
                               field="training_data")
    return train, val, test, info


def _unkey(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k != "_original_category"}
        if r.get("_original_category") is not None:
            row["category"] = r["_original_category"]
        else:
            row.pop("category", None)
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------------------ text stage
def fit_text_stage(train: Sequence[dict], val: Sequence[dict], test: Sequence[dict], *, label: str,
                   classes: tuple[str, ...], seed: int) -> tuple[Any, LogisticRegression, Stage2Data]:
    """Fit the char/word TF-IDF + logistic regression on train and build the stage-2 matrices (out-of-fold text
    probabilities on train, so stage 2 learns how far to trust the text model on unseen text)."""
    text = TextParams()
    parts = [([parse_event(r) for r in rows], np.asarray([classes.index(r[label]) for r in rows], dtype=np.int64))
             for rows in (train, val, test)]
    (tr_events, y_tr), (va_events, y_va), (te_events, y_te) = parts
    vectorizer = build_vectorizer(text)
    x_text = vectorizer.fit_transform([event_text(e) for e in tr_events])
    text_model = LogisticRegression(C=text.c, max_iter=3000, random_state=seed)
    # Every class must be learnable: stage 2 and the metrics have one column per class of the model type.
    counts = np.bincount(y_tr, minlength=len(classes))
    scarce = [c for c, n in zip(classes, counts) if n < 2]
    if scarce:
        raise InvalidInput(f"Every label needs at least two training events; too few for {', '.join(scarce)}.",
                           field="training_data")
    n_splits = int(min(5, counts.min()))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    oof = cross_val_predict(text_model, x_text, y_tr, cv=folds, method="predict_proba")
    text_model.fit(x_text, y_tr)
    oof_full = _full_columns(oof, text_model.classes_, len(classes))

    def stage2(events: list) -> np.ndarray:
        probs = text_model.predict_proba(vectorizer.transform([event_text(e) for e in events]))
        return np.hstack([_full_columns(probs, text_model.classes_, len(classes)), numeric_features(events)])

    data = Stage2Data(x_train=np.hstack([oof_full, numeric_features(tr_events)]), y_train=y_tr,
                      x_val=stage2(va_events), y_val=y_va, x_test=stage2(te_events), y_test=y_te,
                      n_classes=len(classes))
    return vectorizer, text_model, data


def _full_columns(probs: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((probs.shape[0], n_classes))
    out[:, present] = probs
    return out


# --------------------------------------------------------------------------------------------------------- metrics
def measure_runtime(bundle: Path, model: TrainedClassifier, test_rows: Sequence[dict]) -> dict[str, float]:
    """Single-event latency p50 through the served runtime (ONNX) and through the reference model (scikit-learn /
    XGBoost's own predict_proba), batch throughput of the served runtime, and the serialized bundle size."""
    served = ServedClassifier.load(bundle, name="candidate", version="0")
    events = [parse_event(r) for r in test_rows]
    sample = [events[i % len(events)] for i in range(LATENCY_EVENTS)]
    served.predict_proba(sample[:1])
    timings = []
    for e in sample:
        t0 = time.perf_counter()
        served.predict_proba([e])
        timings.append(time.perf_counter() - t0)
    sk_timings = []
    for e in sample[:20]:
        t0 = time.perf_counter()
        model.predict_proba([e])
        sk_timings.append(time.perf_counter() - t0)
    batch = [events[i % len(events)] for i in range(THROUGHPUT_BATCH)]
    t0 = time.perf_counter()
    served.predict_proba(batch)
    batch_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    onnx_size = (bundle / "forest.onnx").stat().st_size
    return {"latency_p50_us": float(np.median(timings) * 1e6),
            "latency_p95_us": float(np.quantile(timings, 0.95) * 1e6),
            "sklearn_latency_p50_us": float(np.median(sk_timings) * 1e6),
            "batch_throughput_eps": float(THROUGHPUT_BATCH / batch_s), "model_size_bytes": float(size),
            "onnx_size_bytes": float(onnx_size)}


# ---------------------------------------------------------------------------------------------------------- stage 2
def _select_stage2(request: TrainingRequest, data: Stage2Data, *, job_id: str, seed: int, redis_url: str,
                   redis_client: Any, key_prefix: str, heartbeat_s: float, progress: Progress,
                   spawn_helpers: SpawnHelpers | None, worker_name: str | None = None
                   ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(fitted stage-2 model, its params, a report of how it was chosen)."""
    from geulpi_tasks.optimization.search import build_estimator, params_from_trial_params

    if request.automl:
        from geulpi_tasks.optimization.automl import EXPORTABLE_FAMILIES, AutoMLOptimizer

        progress({"phase": "automl", "trial": 0, "n_trials": None, "best_value": None})
        result = AutoMLOptimizer(request.time_budget_minutes, families=EXPORTABLE_FAMILIES,
                                 seed=seed).find_best_model(data.x_train, data.y_train)
        report = {"mode": "automl", "best_family": result.best_family, "best_holdout_accuracy": result.best_score,
                  "elapsed_seconds": round(result.elapsed_seconds, 3), "budget_seconds": result.budget_seconds,
                  "refit_on_all_data": result.refit_on_all_data, "trials": result.trials}
        return result.best_model, {"family": result.best_family, **result.best_params}, report
    if not request.optimize:
        params = dict(ForestParams().__dict__)
        return build_estimator(RANDOM_FOREST, params, seed=seed, n_jobs=-1), {"family": RANDOM_FOREST, **params}, {
            "mode": "default"}

    from geulpi_tasks.optimization.search import create_study, make_objective, summarize_study
    from geulpi_tasks.training.distributed import journal_storage, run_study_worker

    storage = journal_storage(redis_url, key_prefix)
    study_name = f"train-{job_id}"
    study = create_study(study_name, storage, multi_objective=request.multi_objective, seed=seed,
                         pruner=request.pruner)
    spec = {"study_name": study_name, "job_id": job_id, "families": list(request.families),
            "multi_objective": request.multi_objective, "seed": seed, "pruner": request.pruner,
            "n_trials": request.n_optimization_trials}
    if request.parallelism > 1 and spawn_helpers is not None:
        spawn_helpers(spec, request.parallelism - 1)
    objective = make_objective(data, families=request.families, multi_objective=request.multi_objective, seed=seed)
    run = run_study_worker(study, objective, n_trials=request.n_optimization_trials, redis_client=redis_client,
                           key_prefix=key_prefix, heartbeat_s=heartbeat_s, wait_for_others=True, progress=progress,
                           worker_name=worker_name)
    summary = summarize_study(study, multi_objective=request.multi_objective)
    summary.update(mode="multi_objective" if request.multi_objective else "optuna", study_name=study_name,
                   parallelism=request.parallelism, search_wall_seconds=run["wall_seconds"],
                   stale_trials_failed=run["stale_failed"], pruner=None if request.multi_objective else request.pruner)
    family, params = params_from_trial_params(summary["best_params"])
    # Every search family converts to ONNX (XGBoost through onnxmltools), so the best trial is what gets served.
    progress({"phase": "refit", "trial": request.n_optimization_trials, "n_trials": request.n_optimization_trials,
              "best_value": summary["best_value"]})
    return build_estimator(family, params, seed=seed, n_jobs=-1), {"family": family, **params}, summary


def run_search_helper(spec: dict[str, Any], *, redis_url: str, key_prefix: str, heartbeat_s: float,
                      worker_name: str | None = None) -> dict[str, Any]:
    """A helper worker's share of a distributed study: load the job's stage-2 data and run trials until nothing is
    left to claim. Returns what it ran; a study that is already done returns at once."""
    import redis

    from geulpi_tasks.optimization.search import create_study, make_objective
    from geulpi_tasks.training.distributed import journal_storage, run_study_worker

    client = redis.Redis.from_url(redis_url)
    payload = client.get(job_key(key_prefix, spec["job_id"], "stage2"))
    if payload is None:
        return {"study_name": spec["study_name"], "trials_run": 0, "note": "job data expired or job finished"}
    data = Stage2Data.from_bytes(payload if isinstance(payload, bytes) else payload.encode("latin-1"))
    # Sampler unseeded: seeded like the coordinator, a helper would propose the coordinator's own trials again.
    study = create_study(spec["study_name"], journal_storage(redis_url, key_prefix),
                         multi_objective=spec["multi_objective"], seed=None, pruner=spec["pruner"])
    objective = make_objective(data, families=spec["families"], multi_objective=spec["multi_objective"],
                               seed=spec["seed"])
    run = run_study_worker(study, objective, n_trials=int(spec["n_trials"]), redis_client=client,
                           key_prefix=key_prefix, heartbeat_s=heartbeat_s, wait_for_others=False,
                           worker_name=worker_name)
    return {"study_name": spec["study_name"], **run}


# ------------------------------------------------------------------------------------------------------- registry
def _find_job_version(tracking_uri: str, job_id: str) -> tuple[str, str, Any] | None:
    """(model name, version, run) registered by an earlier attempt of this job, if any."""
    from geulpi_tasks.registry.store import EXPERIMENT_NAME, client_for

    client = client_for(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        return None
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.`{JOB_TAG}` = '{job_id}'")
    for run in runs:
        versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
        if versions:
            mv = versions[0]
            return str(mv.name), str(mv.version), run
    return None


def _schema_changed(tracking_uri: str, name: str) -> bool:
    from geulpi_tasks.registry.store import client_for, find_version_by_alias

    ref = find_version_by_alias(tracking_uri, name)
    if ref is None or not ref.run_id:
        return False
    previous = client_for(tracking_uri).get_run(ref.run_id).data.params.get("feature_schema_version")
    return previous is not None and str(previous) != str(FEATURE_SCHEMA_VERSION)


def _promote(request: TrainingRequest, tracking_uri: str, name: str, version: str, metrics: dict[str, Any],
             gates: Any) -> dict[str, Any] | None:
    if not request.auto_promote:
        return None
    from geulpi_tasks.registry.gates import PromotionGates, apply_auto_promote

    return apply_auto_promote(tracking_uri, name, version, metrics, gates or PromotionGates())


# ------------------------------------------------------------------------------------------------------------ job
def run_training_job(request: dict[str, Any], *, job_id: str, tracking_uri: str, artifact_root: Path,
                     redis_url: str, key_prefix: str, progress: Progress, seed: int = 7,
                     default_samples: int = DEFAULT_SAMPLES, heartbeat_s: float = 5.0, gates: Any = None,
                     spawn_helpers: SpawnHelpers | None = None, worker_name: str | None = None) -> dict[str, Any]:
    """Train, measure on the held-out test split, register (and auto-promote if asked) one version.

    ``worker_name`` (the Celery hostname) is recorded on the search trials this worker runs.
    Returns ``{jobId, model_name, version, semver, status, metrics, search, data, promotion, ...}``. Idempotent by
    ``job_id`` (see the module docstring). Raises InvalidInput for a bad request, Unavailable when the registry
    or Redis cannot be reached.
    """
    import redis

    req = parse_training_request(request)
    seed = req.seed if req.seed is not None else seed
    client = redis.Redis.from_url(redis_url)
    state_key = job_key(key_prefix, job_id)
    stored = client.hget(state_key, "result")
    if stored is not None:
        return {**json.loads(stored), "redelivered": True}
    attempt = int(client.hincrby(state_key, "attempts", 1))
    client.expire(state_key, JOB_TTL_S)
    with JobLease(client, job_key(key_prefix, job_id, "lease"), heartbeat_s) as lease:
        if not lease.acquire(lambda: client.hget(state_key, "result") is not None):
            return {**json.loads(client.hget(state_key, "result") or "{}"), "redelivered": True}
        return _run_leased(req, client, state_key, attempt, job_id=job_id, tracking_uri=tracking_uri,
                           artifact_root=artifact_root, redis_url=redis_url, key_prefix=key_prefix,
                           progress=progress, seed=seed, default_samples=default_samples, heartbeat_s=heartbeat_s,
                           gates=gates, spawn_helpers=spawn_helpers, worker_name=worker_name)


class JobLease:
    """At most one live attempt per job: a Redis key set NX and refreshed every ``heartbeat_s`` while the attempt
    runs. A duplicate delivery waits while the holder lives and takes over when its key expires (it died)."""

    def __init__(self, client: Any, key: str, heartbeat_s: float):
        import threading
        import uuid

        self._client, self._key = client, key
        self._token = uuid.uuid4().hex
        self._ttl_ms = max(1000, int(heartbeat_s * 3000))
        self._interval = heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-lease", daemon=True)

    def acquire(self, finished: Callable[[], bool]) -> bool:
        """True once held; False if another attempt finished the job meanwhile."""
        while not self._client.set(self._key, self._token, nx=True, px=self._ttl_ms):
            if finished():
                return False
            time.sleep(min(1.0, self._interval))
        self._thread.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self._client.get(self._key) == self._token.encode():
                    self._client.pexpire(self._key, self._ttl_ms)
            except REDIS_OUTAGE_ERRORS as err:  # a missed beat only risks a duplicate waiting less
                log.warning("job lease refresh failed: %s", err)

    def __enter__(self) -> "JobLease":
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            if self._client.get(self._key) == self._token.encode():
                self._client.delete(self._key)
        except REDIS_OUTAGE_ERRORS as err:  # the key expires by itself; never hide the job's own outcome
            log.warning("job lease release failed (it expires in %d ms): %s", self._ttl_ms, err)


def run_training_job_through_outages(request: dict[str, Any], *, redis_url: str, max_wait_s: float,
                                     **kwargs: Any) -> dict[str, Any]:
    """``run_training_job``, started again from its durable state when Redis goes away mid-job.

    An accepted job must not be lost to a short Redis outage: the attempt that met the outage stops, this waits
    until Redis answers again (up to ``max_wait_s`` per outage) and runs the job once more. Idempotency by job id
    (stored result, registered version, lease) makes the new attempt finish the job exactly once.
    """
    import redis

    for restart in range(MAX_OUTAGE_RESTARTS + 1):
        try:
            return run_training_job(request, redis_url=redis_url, **kwargs)
        except Exception as err:
            outage = isinstance(err, REDIS_OUTAGE_ERRORS) or isinstance(err.__cause__, REDIS_OUTAGE_ERRORS)
            if not outage or restart == MAX_OUTAGE_RESTARTS:
                raise
            log.warning("training job %s met a Redis outage (%s); waiting for Redis to return", kwargs.get("job_id"),
                        err)
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
            deadline = time.monotonic() + max_wait_s
            delay = 0.5
            while True:
                try:
                    client.ping()
                    break
                except REDIS_OUTAGE_ERRORS:
                    if time.monotonic() > deadline:
                        raise err from None
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def _run_leased(req: TrainingRequest, client: Any, state_key: str, attempt: int, *, job_id: str,
                tracking_uri: str, artifact_root: Path, redis_url: str, key_prefix: str, progress: Progress,
                seed: int, default_samples: int, heartbeat_s: float, gates: Any,
                spawn_helpers: SpawnHelpers | None, worker_name: str | None = None) -> dict[str, Any]:
    stored = client.hget(state_key, "result")
    if stored is not None:
        return {**json.loads(stored), "redelivered": True}
    earlier = _find_job_version(tracking_uri, job_id)
    if earlier is not None:
        name, version, run = earlier
        metrics = dict(run.data.metrics)
        resumed: dict[str, Any] = {"jobId": job_id, "model_name": name, "version": version, "status": "registered",
                  "semver": run.data.tags.get("geulpi.semver"), "metrics": metrics, "attempt": attempt,
                  "resumed": "version registered by an earlier attempt of this job"}
        resumed["promotion"] = _promote(req, tracking_uri, name, version, metrics, gates)
        resumed["status"] = _status(resumed["promotion"])
        client.hset(state_key, mapping={"state": "done", "result": json.dumps(resumed)})
        return resumed

    name = req.model_type
    client.hset(state_key, mapping={"state": "running", "model_name": name})
    started = time.perf_counter()
    progress({"phase": "data", "trial": 0, "n_trials": req.n_optimization_trials, "best_value": None})
    train, val, test, data_info = load_training_rows(req, redis_client=client, key_prefix=key_prefix, seed=seed,
                                                     default_samples=default_samples)
    progress({"phase": "text_model", "trial": 0, "n_trials": req.n_optimization_trials, "best_value": None})
    vectorizer, text_model, data = fit_text_stage(train, val, test, label=req.label_key, classes=req.classes,
                                                  seed=seed)
    client.set(job_key(key_prefix, job_id, "stage2"), data.to_bytes(), ex=STAGE2_TTL_S)
    stage2, stage2_params, search = _select_stage2(
        req, data, job_id=job_id, seed=seed, redis_url=redis_url, redis_client=client, key_prefix=key_prefix,
        heartbeat_s=heartbeat_s, progress=progress, spawn_helpers=spawn_helpers, worker_name=worker_name)
    progress({"phase": "fit", "trial": req.n_optimization_trials, "n_trials": req.n_optimization_trials,
              "best_value": search.get("best_value")})
    if not req.automl:  # AutoML returns its model fitted (refit on all data when the budget allowed)
        stage2.fit(data.x_train, data.y_train)
    compression = None
    if req.prune_trees and hasattr(stage2, "estimators_"):
        from geulpi_tasks.optimization.compression import prune_forest

        progress({"phase": "compression", "trial": None, "n_trials": None, "best_value": None})
        pruned = prune_forest(stage2, data.x_val, data.y_val, tolerance=req.prune_tolerance, x_test=data.x_test,
                              y_test=data.y_test)
        stage2, compression = pruned.forest, pruned.report
    elif req.prune_trees:
        compression = {"skipped": f"Tree pruning drops whole trees of a forest; the {stage2_family(stage2)} model "
                                  "chosen here has no independent trees to drop."}
    progress({"phase": "evaluate", "trial": None, "n_trials": None, "best_value": search.get("best_value")})
    temperature = fit_temperature(stage2.predict_proba(data.x_val), data.y_val)
    raw_test = stage2.predict_proba(data.x_test)
    metrics = evaluate(apply_temperature(raw_test, temperature), data.y_test, req.classes)
    metrics["ece_uncalibrated"] = expected_calibration_error(raw_test, data.y_test)
    model = TrainedClassifier(vectorizer=vectorizer, text_model=text_model, forest=stage2, temperature=temperature,
                              classes=req.classes)
    params = {"model_type": name, "stage2_family": stage2_family(stage2), "served_runtime": "onnxruntime",
              "stage2": stage2_params,
              "text": {**TextParams().__dict__, "char_ngrams": list(TextParams().char_ngrams)},
              "temperature": temperature, "seed": seed, "feature_schema_version": FEATURE_SCHEMA_VERSION,
              "optimize": req.optimize, "automl": req.automl, "n_optimization_trials": req.n_optimization_trials,
              "parallelism": req.parallelism, "multi_objective": req.multi_objective, "prune_trees": req.prune_trees}
    model.params = params
    fingerprint = {"train": data_fingerprint(_fp_rows(train, req.label_key)),
                   "validation": data_fingerprint(_fp_rows(val, req.label_key)),
                   "test": data_fingerprint(_fp_rows(test, req.label_key)), **data_info}
    model.data_fingerprint = fingerprint

    from geulpi_tasks.registry.lifecycle import next_semver
    from geulpi_tasks.registry.store import register_bundle

    semver = next_semver(tracking_uri, name, schema_changed=_schema_changed(tracking_uri, name), kind="retrain")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_bundle(model, Path(tmp) / "bundle", extra_meta={"semver": semver, "model_type": name})
        progress({"phase": "benchmark", "trial": None, "n_trials": None, "best_value": search.get("best_value")})
        metrics.update(measure_runtime(bundle, model, test))
        metrics["train_seconds"] = time.perf_counter() - started
        metrics["test_rows"] = float(len(test))
        metrics["train_rows"] = float(len(train))
        scalar = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
        for cls, pr in metrics["per_class"].items():
            scalar[f"precision_{cls}"] = pr["precision"]
            scalar[f"recall_{cls}"] = pr["recall"]
        progress({"phase": "register", "trial": None, "n_trials": None, "best_value": search.get("best_value")})
        ref = register_bundle(
            bundle, tracking_uri=tracking_uri, artifact_root=artifact_root, name=name,
            description=req.description or f"{name} trained by job {job_id}", semver=semver, params=params,
            metrics=scalar,
            run_tags={JOB_TAG: job_id, "geulpi.trigger": req.trigger, "geulpi.semver": semver,
                      "geulpi.data_sha256": fingerprint["train"]["sha256"]},
            json_artifacts={"data_fingerprint.json": fingerprint, "metrics.json": metrics,
                            "feature_schema.json": {"version": FEATURE_SCHEMA_VERSION, "classes": list(req.classes),
                                                    "stage2_inputs": [f"text_prob_{c}" for c in req.classes]
                                                    + list(NUMERIC_FEATURES)},
                            "search.json": _jsonable(search),
                            # the drift scan's baseline: this version's own training features
                            REFERENCE_ARTIFACT: build_reference(train),
                            **({"compression.json": compression} if compression else {})})
    from geulpi_tasks.registry.store import client_for

    client_for(tracking_uri).set_model_version_tag(name, ref.version, JOB_TAG, job_id)
    client.hset(state_key, mapping={"state": "registered", "version": ref.version})
    result: dict[str, Any] = {
        "jobId": job_id, "model_name": name, "version": ref.version, "semver": semver, "run_id": ref.run_id,
        "metrics": metrics, "search": _jsonable(_short_search(search)), "compression": compression,
        "data": {k: fingerprint[k] for k in ("train", "validation", "test")} | data_info, "attempt": attempt,
    }
    result["promotion"] = _promote(req, tracking_uri, name, ref.version, scalar, gates)
    result["status"] = _status(result["promotion"])
    client.hset(state_key, mapping={"state": "done", "result": json.dumps(_jsonable(result))})
    client.delete(job_key(key_prefix, job_id, "stage2"))
    progress({"phase": "done", "trial": None, "n_trials": None, "best_value": search.get("best_value")})
    return _jsonable(result)


def _status(promotion: dict[str, Any] | None) -> str:
    if promotion is None:
        return "registered"
    return "promoted_to_production" if promotion.get("promoted") else "staging"


def _fp_rows(rows: Sequence[dict], label: str) -> list[dict]:
    # data_fingerprint counts rows per "category"; count the label this model learns.
    return [{**r, "category": r[label]} for r in rows]


def _short_search(search: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in search.items() if k != "trials"}
    out["n_trials_recorded"] = len(search.get("trials", []))
    # Summed wall time of the trials themselves: the work a search did, whichever workers did it.
    out["trial_seconds_total"] = round(sum(t.get("seconds", 0.0) for t in search.get("trials", [])), 3)
    return out


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
