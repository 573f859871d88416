"""Phase 5 of a training job: one MLflow version per job, found again by a redelivered attempt, and the optional
auto-promotion through the gates."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geulpi_tasks.features.event_features import FEATURE_SCHEMA_VERSION, NUMERIC_FEATURES
from geulpi_tasks.models.event_classifier import TrainedClassifier
from geulpi_tasks.models.explain import IMPORTANCE_ARTIFACT
from geulpi_tasks.models.runtime import save_bundle
from geulpi_tasks.monitoring.reference import REFERENCE_ARTIFACT, build_reference
from geulpi_tasks.registry.gates import PromotionGates, RequestApproval, apply_auto_promote
from geulpi_tasks.registry.lifecycle import next_semver
from geulpi_tasks.registry.store import EXPERIMENT_NAME, VersionRef, client_for, find_version_by_alias, register_bundle
from geulpi_tasks.training.context import JobContext
from geulpi_tasks.training.data import TrainingRows
from geulpi_tasks.training.measure import measure_importance, measure_realistic, measure_runtime
from geulpi_tasks.training.request import TrainingRequest

JOB_TAG = "geulpi.job_id"


@dataclass
class Candidate:
    """A trained, calibrated and scored model waiting to be registered."""

    model: TrainedClassifier
    metrics: dict[str, Any]
    params: dict[str, Any]
    fingerprint: dict[str, Any]
    search: dict[str, Any]
    compression: dict[str, Any] | None


def find_job_version(tracking_uri: str, job_id: str) -> tuple[str, str, Any] | None:
    """(model name, version, run) registered by an earlier attempt of this job, if any."""
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


def schema_changed(tracking_uri: str, name: str) -> bool:
    """True when production was trained on another feature schema (the new version is then a major semver)."""
    ref = find_version_by_alias(tracking_uri, name)
    if ref is None or not ref.run_id:
        return False
    previous = client_for(tracking_uri).get_run(ref.run_id).data.params.get("feature_schema_version")
    return previous is not None and str(previous) != str(FEATURE_SCHEMA_VERSION)


def auto_promote(request: TrainingRequest, tracking_uri: str, name: str, version: str, metrics: dict[str, Any],
                 gates: PromotionGates | None, request_approval: RequestApproval | None = None
                 ) -> dict[str, Any] | None:
    """Stage the version and promote it through the gates when the request asked for it; None otherwise. With
    ``request_approval`` (GEULPI_REQUIRE_APPROVAL) a version that passes stops at a pending request instead."""
    if not request.auto_promote:
        return None
    return apply_auto_promote(tracking_uri, name, version, metrics, gates or PromotionGates(), request_approval)


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The numbers MLflow records: every numeric metric plus per-class precision and recall."""
    scalar = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    for cls, pr in metrics["per_class"].items():
        scalar[f"precision_{cls}"] = pr["precision"]
        scalar[f"recall_{cls}"] = pr["recall"]
    return scalar


def trial_cpu_seconds(search: dict[str, Any]) -> float:
    """CPU seconds the search's trials spent, summed over every worker that ran one."""
    return round(sum(float(t.get("cpu_seconds", 0.0)) for t in search.get("trials", [])), 4)


def register_candidate(request: TrainingRequest, candidate: Candidate, rows: TrainingRows, ctx: JobContext, *,
                       started: float, cpu_started: float | None = None) -> tuple[VersionRef, str, dict[str, float]]:
    """Save the bundle, time it, register it as a new version tagged with the job id. (ref, semver, scalars)

    ``cpu_started``: ``time.process_time()`` when the job began; the job's CPU seconds (this process, every
    thread) are then logged as ``cpu_seconds_total``, beside ``trial_cpu_seconds_total`` (per trial in
    search.json)."""
    name = request.model_type
    semver = next_semver(ctx.tracking_uri, name, schema_changed=schema_changed(ctx.tracking_uri, name),
                         kind="retrain")
    metrics = candidate.metrics
    best = candidate.search.get("best_value")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_bundle(candidate.model, Path(tmp) / "bundle", extra_meta={"semver": semver, "model_type": name})
        ctx.phase("benchmark", best_value=best)
        metrics.update(measure_runtime(bundle, candidate.model, rows.test))
        metrics.update(measure_realistic(bundle, rows, label=request.label_key, tracking_uri=ctx.tracking_uri,
                                         model_name=name, download_dir=Path(tmp) / "production"))
        metrics["train_seconds"] = time.perf_counter() - started
        if cpu_started is not None:
            metrics["cpu_seconds_total"] = time.process_time() - cpu_started
        if candidate.search.get("trials"):
            metrics["trial_cpu_seconds_total"] = trial_cpu_seconds(candidate.search)
        metrics["test_rows"] = float(len(rows.test))
        metrics["train_rows"] = float(len(rows.train))
        scalar = scalar_metrics(metrics)
        importance = measure_importance(bundle, rows.realistic_holdout or rows.test)
        ctx.phase("register", best_value=best)
        ref = register_bundle(
            bundle, tracking_uri=ctx.tracking_uri, artifact_root=ctx.artifact_root, name=name,
            description=request.description or f"{name} trained by job {ctx.job_id}", semver=semver,
            params=candidate.params, metrics=scalar,
            run_tags={JOB_TAG: ctx.job_id, "geulpi.trigger": request.trigger, "geulpi.semver": semver,
                      "geulpi.data_sha256": candidate.fingerprint["train"]["sha256"]},
            json_artifacts={**_artifacts(request, candidate, rows),
                            **({IMPORTANCE_ARTIFACT: importance} if importance else {})})
    client_for(ctx.tracking_uri).set_model_version_tag(name, ref.version, JOB_TAG, ctx.job_id)
    return ref, semver, scalar


def _artifacts(request: TrainingRequest, candidate: Candidate, rows: TrainingRows) -> dict[str, Any]:
    schema = {"version": FEATURE_SCHEMA_VERSION, "classes": list(request.classes),
              "stage2_inputs": [f"text_prob_{c}" for c in request.classes] + list(NUMERIC_FEATURES)}
    return {"data_fingerprint.json": candidate.fingerprint, "metrics.json": candidate.metrics,
            "feature_schema.json": schema, "search.json": jsonable(candidate.search),
            # the drift scan's baseline: this version's own training features
            REFERENCE_ARTIFACT: build_reference(rows.train),
            **({"compression.json": candidate.compression} if candidate.compression else {})}


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as plain numbers and anything else unknown as text."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
