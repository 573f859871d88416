"""Phase 3 of a training job: choose the stage-2 model (default, Optuna search, possibly spread over several
training workers, or AutoML) and fit it."""

from __future__ import annotations

from typing import Any

import redis

from geulpi_tasks.models.event_classifier import RecipeParams
from geulpi_tasks.models.onnx_export import LOGISTIC, stage2_family
from geulpi_tasks.optimization.automl import EXPORTABLE_FAMILIES, AutoMLOptimizer
from geulpi_tasks.optimization.compression import prune_forest
from geulpi_tasks.optimization.search import (
    Stage2Data,
    build_estimator,
    create_study,
    make_objective,
    params_from_trial_params,
    summarize_study,
)
from geulpi_tasks.training.context import JobContext
from geulpi_tasks.training.distributed import journal_storage, run_study_worker
from geulpi_tasks.training.keys import job_key
from geulpi_tasks.training.request import TrainingRequest

Choice = tuple[Any, dict[str, Any], dict[str, Any]]


def select_stage2(request: TrainingRequest, data: Stage2Data, ctx: JobContext) -> Choice:
    """(stage-2 model, its params, a report of how it was chosen). AutoML returns its model fitted already."""
    if request.automl:
        return _automl(request, data, ctx)
    if not request.optimize:
        params = {"C": RecipeParams().stage2_c}
        return build_estimator(LOGISTIC, params, seed=ctx.seed, n_jobs=-1), {"family": LOGISTIC, **params}, {
            "mode": "default"}
    return _optuna(request, data, ctx)


def _automl(request: TrainingRequest, data: Stage2Data, ctx: JobContext) -> Choice:
    ctx.phase("automl", trial=0)
    result = AutoMLOptimizer(request.time_budget_minutes, families=EXPORTABLE_FAMILIES,
                             seed=ctx.seed).find_best_model(data.x_train, data.y_train)
    report = {"mode": "automl", "best_family": result.best_family, "best_holdout_accuracy": result.best_score,
              "elapsed_seconds": round(result.elapsed_seconds, 3), "budget_seconds": result.budget_seconds,
              "refit_on_all_data": result.refit_on_all_data, "trials": result.trials}
    return result.best_model, {"family": result.best_family, **result.best_params}, report


def _optuna(request: TrainingRequest, data: Stage2Data, ctx: JobContext) -> Choice:
    """One study named after the job; with ``parallelism`` > 1 helpers on other workers join it."""
    storage = journal_storage(ctx.redis_url, ctx.key_prefix)
    study_name = f"train-{ctx.job_id}"
    study = create_study(study_name, storage, multi_objective=request.multi_objective, seed=ctx.seed,
                         pruner=request.pruner)
    if not study.trials and LOGISTIC in request.families and not request.multi_objective:
        # Start from the recipe measured best on the realistic dev sets, so a short search never ends below it.
        default = {"lr_C": RecipeParams().stage2_c}
        study.enqueue_trial({"family": LOGISTIC, **default} if len(request.families) > 1 else default)
    spec = {"study_name": study_name, "job_id": ctx.job_id, "families": list(request.families),
            "multi_objective": request.multi_objective, "seed": ctx.seed, "pruner": request.pruner,
            "n_trials": request.n_optimization_trials}
    if request.parallelism > 1 and ctx.spawn_helpers is not None:
        ctx.spawn_helpers(spec, request.parallelism - 1)
    objective = make_objective(data, families=request.families, multi_objective=request.multi_objective,
                               seed=ctx.seed)
    run = run_study_worker(study, objective, n_trials=request.n_optimization_trials, redis_client=ctx.redis,
                           key_prefix=ctx.key_prefix, heartbeat_s=ctx.heartbeat_s, wait_for_others=True,
                           progress=ctx.progress, worker_name=ctx.worker_name)
    summary = summarize_study(study, multi_objective=request.multi_objective)
    summary.update(mode="multi_objective" if request.multi_objective else "optuna", study_name=study_name,
                   parallelism=request.parallelism, search_wall_seconds=run["wall_seconds"],
                   stale_trials_failed=run["stale_failed"], pruner=None if request.multi_objective else request.pruner)
    family, params = params_from_trial_params(summary["best_params"])
    # Every search family converts to ONNX (XGBoost through onnxmltools), so the best trial is what gets served.
    ctx.phase("refit", trial=request.n_optimization_trials, n_trials=request.n_optimization_trials,
              best_value=summary["best_value"])
    return build_estimator(family, params, seed=ctx.seed, n_jobs=-1), {"family": family, **params}, summary


def fit_stage2(request: TrainingRequest, stage2: Any, data: Stage2Data, ctx: JobContext,
               best_value: Any) -> tuple[Any, dict[str, Any] | None]:
    """Fit the chosen model on the training matrix and, if asked, prune its trees. (model, compression report)"""
    ctx.phase("fit", trial=request.n_optimization_trials, n_trials=request.n_optimization_trials,
              best_value=best_value)
    if not request.automl:  # AutoML returns its model fitted (refit on all data when the budget allowed)
        stage2.fit(data.x_train, data.y_train, sample_weight=data.weights())
    if not request.prune_trees:
        return stage2, None
    if not hasattr(stage2, "estimators_"):
        return stage2, {"skipped": f"Tree pruning drops whole trees of a forest; the {stage2_family(stage2)} model "
                                   "chosen here has no independent trees to drop."}
    ctx.phase("compression")
    pruned = prune_forest(stage2, data.x_val, data.y_val, tolerance=request.prune_tolerance, x_test=data.x_test,
                          y_test=data.y_test)
    return pruned.forest, pruned.report


def run_search_helper(spec: dict[str, Any], *, redis_url: str, key_prefix: str, heartbeat_s: float,
                      worker_name: str | None = None) -> dict[str, Any]:
    """A helper worker's share of a distributed study: load the job's stage-2 data and run trials until nothing is
    left to claim. Returns what it ran; a study that is already done returns at once."""
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
