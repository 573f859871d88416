"""Hyperparameter search spaces and objectives for the stage-2 model (the forest that reads text probabilities and
time/context numbers), single- or multi-objective.

Single-objective trials score stratified K-fold accuracy and report the running mean after each fold, so a pruner
(median or successive halving) stops hopeless trials early. Multi-objective trials maximise accuracy and minimise
single-row latency and serialized size of the exported ONNX model, and the Pareto front is reported with an
explained choice. Everything here is pure computation on arrays; storage and workers live in ``distributed.py``.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import onnxruntime as ort
import optuna
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.models.onnx_export import LOGISTIC, RANDOM_FOREST, XGBOOST, stage2_onnx_bytes

# Every search family converts to ONNX (XGBoost through onnxmltools' converter), so every winner can be served.
FAMILIES: tuple[str, ...] = (LOGISTIC, RANDOM_FOREST, XGBOOST)
PRUNERS = ("median", "successive_halving", "none")
# A Pareto trial within this much accuracy of the most accurate Pareto trial counts as "as accurate".
PARETO_ACCURACY_SLACK = 0.005
N_FOLDS = 3
# A fold is scored on its realistic rows only when it holds at least this many (fewer would make the score noise).
MIN_REALISTIC_FOLD_ROWS = 30
# Names the training worker (its Celery hostname) that ran a trial, so a job's result can say who did what.
WORKER_ATTR = "geulpi_worker"
# CPU seconds the trial's own thread spent (fitting and scoring), recorded on every trial, pruned ones included.
CPU_ATTR = "cpu_seconds"


@dataclass(frozen=True)
class Stage2Data:
    """The stage-2 matrices of one training job: train (out-of-fold text probabilities), validation and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    # Per training row: its weight (feedback and hand-labelled rows count more than generated ones), and whether it
    # is a hand-labelled realistic row (the search scores candidates on those). None: every row 1.0 / none.
    w_train: np.ndarray | None = None
    realistic_train: np.ndarray | None = None

    def weights(self) -> np.ndarray:
        return self.w_train if self.w_train is not None else np.ones(len(self.y_train))

    def realistic_mask(self) -> np.ndarray:
        if self.realistic_train is None:
            return np.zeros(len(self.y_train), dtype=bool)
        return self.realistic_train.astype(bool)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, x_train=self.x_train, y_train=self.y_train, x_val=self.x_val, y_val=self.y_val,
                            x_test=self.x_test, y_test=self.y_test, n_classes=np.asarray(self.n_classes),
                            w_train=self.weights(), realistic_train=self.realistic_mask())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> "Stage2Data":
        with np.load(io.BytesIO(payload)) as z:
            return cls(x_train=z["x_train"], y_train=z["y_train"], x_val=z["x_val"], y_val=z["y_val"],
                       x_test=z["x_test"], y_test=z["y_test"], n_classes=int(z["n_classes"]),
                       w_train=z["w_train"] if "w_train" in z else None,
                       realistic_train=z["realistic_train"] if "realistic_train" in z else None)


def suggest_params(trial: optuna.Trial, family: str) -> dict[str, Any]:
    """The search space of one family. Logistic: inverse regularisation. RandomForest: size, depth, split/leaf
    sizes, features per split. XGBoost: learning rate, depth, row/column subsampling, rounds, regularisation."""
    if family == LOGISTIC:
        return {"C": trial.suggest_float("lr_C", 0.05, 20.0, log=True)}
    if family == RANDOM_FOREST:
        return {
            "n_estimators": trial.suggest_int("rf_n_estimators", 20, 200, step=10),
            "max_depth": trial.suggest_int("rf_max_depth", 4, 30),
            "min_samples_split": trial.suggest_int("rf_min_samples_split", 2, 12),
            "min_samples_leaf": trial.suggest_int("rf_min_samples_leaf", 1, 8),
            "max_features": trial.suggest_categorical("rf_max_features", ["sqrt", "log2", 0.5]),
        }
    if family == XGBOOST:
        return {
            "learning_rate": trial.suggest_float("xgb_learning_rate", 0.02, 0.4, log=True),
            "max_depth": trial.suggest_int("xgb_max_depth", 2, 10),
            "subsample": trial.suggest_float("xgb_subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("xgb_colsample_bytree", 0.5, 1.0),
            "n_estimators": trial.suggest_int("xgb_n_estimators", 20, 200, step=10),
            "min_child_weight": trial.suggest_float("xgb_min_child_weight", 0.5, 8.0, log=True),
            "reg_lambda": trial.suggest_float("xgb_reg_lambda", 1e-3, 10.0, log=True),
        }
    raise InvalidInput(f"Unknown model family '{family}'; use one of {', '.join(FAMILIES)}.", field="families")


def params_from_trial_params(trial_params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(family, estimator params) from a finished trial's raw ``params`` (prefixed names)."""
    family = trial_params.get("family") or (XGBOOST if any(k.startswith("xgb_") for k in trial_params)
                                            else LOGISTIC if any(k.startswith("lr_") for k in trial_params)
                                            else RANDOM_FOREST)
    prefix = {RANDOM_FOREST: "rf_", XGBOOST: "xgb_", LOGISTIC: "lr_"}[family]
    return family, {k[len(prefix):]: v for k, v in trial_params.items() if k.startswith(prefix)}


def build_estimator(family: str, params: dict[str, Any], *, seed: int, n_jobs: int = 1) -> Any:
    if family == LOGISTIC:
        return LogisticRegression(max_iter=3000, random_state=seed, **params)
    if family == RANDOM_FOREST:
        return RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **params)
    if family == XGBOOST:
        from xgboost import XGBClassifier  # heavy, and needed only when a search tries XGBoost

        return XGBClassifier(random_state=seed, n_jobs=n_jobs, tree_method="hist", eval_metric="mlogloss",
                             **params)
    raise InvalidInput(f"Unknown model family '{family}'; use one of {', '.join(FAMILIES)}.", field="families")


def onnx_session(payload: bytes) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(payload, sess_options=options, providers=["CPUExecutionProvider"])


def single_row_latency_us(predict: Callable[[np.ndarray], Any], rows: np.ndarray, repeats: int = 50) -> float:
    """Median wall time of one-row predictions over ``repeats`` rows (µs), after one warm-up call."""
    predict(rows[:1])
    timings = []
    for i in range(repeats):
        row = rows[i % len(rows): i % len(rows) + 1]
        started = time.perf_counter()
        predict(row)
        timings.append(time.perf_counter() - started)
    return float(np.median(timings) * 1e6)


def model_cost(model: Any, family: str, x_sample: np.ndarray) -> dict[str, Any]:
    """Latency p50 (µs) and size (bytes) of the artifact that would be served: the model's ONNX graph."""
    x32 = np.ascontiguousarray(x_sample, dtype=np.float32)
    payload = stage2_onnx_bytes(model, x32.shape[1])
    session = onnx_session(payload)
    name = session.get_inputs()[0].name
    output = session.get_outputs()[-1].name
    latency = single_row_latency_us(lambda r: session.run([output], {name: r}), x32)
    return {"latency_us": latency, "size_bytes": len(payload), "runtime": "onnxruntime"}


def make_pruner(name: str, n_folds: int = N_FOLDS) -> optuna.pruners.BasePruner:
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise InvalidInput(f"Unknown pruner '{name}'; use one of {', '.join(PRUNERS)}.", field="pruner")


def make_objective(data: Stage2Data, *, families: Sequence[str], multi_objective: bool, seed: int,
                   n_folds: int = N_FOLDS) -> Callable[[optuna.Trial], Any]:
    """The trial function. Single-objective: mean K-fold accuracy, reported fold by fold for pruning.
    Multi-objective: (accuracy, latency µs, size bytes) of a model fit on all but one fold.

    Rows are fitted with their weights. Each fold is scored on its held-out hand-labelled realistic rows when it
    has at least ``MIN_REALISTIC_FOLD_ROWS`` of them, so the search prefers what works on real events rather than
    on the generator; otherwise on all its held-out rows."""
    for family in families:
        if family not in FAMILIES:
            raise InvalidInput(f"Unknown model family '{family}'; use one of {', '.join(FAMILIES)}.",
                               field="families")
    folds = list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(data.x_train,
                                                                                            data.y_train))
    weights, realistic = data.weights(), data.realistic_mask()

    def objective(trial: optuna.Trial) -> Any:
        # This thread's CPU: trials fit with n_jobs=1, and parallel trials run on their own threads or workers.
        cpu_started = time.thread_time()
        try:
            return _run_trial(trial)
        finally:
            trial.set_user_attr(CPU_ATTR, round(time.thread_time() - cpu_started, 4))

    def _run_trial(trial: optuna.Trial) -> Any:
        family = trial.suggest_categorical("family", list(families)) if len(families) > 1 else families[0]
        params = suggest_params(trial, family)
        scores = []
        model = None
        for step, (train_idx, valid_idx) in enumerate(folds):
            model = build_estimator(family, params, seed=seed)
            model.fit(data.x_train[train_idx], data.y_train[train_idx], sample_weight=weights[train_idx])
            scored = valid_idx[realistic[valid_idx]]
            if len(scored) < MIN_REALISTIC_FOLD_ROWS:
                scored = valid_idx
            scores.append(float(np.mean(model.predict(data.x_train[scored]) == data.y_train[scored])))
            if multi_objective:
                break  # one fold: latency and size need one fitted model, and MO studies cannot prune
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                trial.set_user_attr("folds_done", step + 1)
                raise optuna.TrialPruned()
        accuracy = float(np.mean(scores))
        trial.set_user_attr("family", family)
        trial.set_user_attr("folds_done", len(scores))
        if not multi_objective:
            return accuracy
        cost = model_cost(model, family, data.x_val[:50])
        trial.set_user_attr("runtime", cost["runtime"])
        return accuracy, cost["latency_us"], float(cost["size_bytes"])

    return objective


def create_study(name: str, storage: Any, *, multi_objective: bool, seed: int | None, pruner: str) -> optuna.Study:
    """Create or load (same name → same study, so a redelivered job continues it) a study. ``seed`` seeds this
    process's sampler only; helpers of a distributed study pass None, else every worker would draw the same
    start-up parameters."""
    sampler: optuna.samplers.BaseSampler
    if multi_objective:
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
        return optuna.create_study(study_name=name, storage=storage, load_if_exists=True, sampler=sampler,
                                   directions=["maximize", "minimize", "minimize"])
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=3)
    return optuna.create_study(study_name=name, storage=storage, load_if_exists=True, sampler=sampler,
                               pruner=make_pruner(pruner), direction="maximize")


def _trial_row(t: optuna.trial.FrozenTrial) -> dict[str, Any]:
    row: dict[str, Any] = {"number": t.number, "state": t.state.name, "params": t.params,
                           "family": t.user_attrs.get("family") or params_from_trial_params(t.params)[0],
                           "worker": t.user_attrs.get(WORKER_ATTR)}
    if t.values is not None:
        row["values"] = list(t.values)
    if CPU_ATTR in t.user_attrs:
        row["cpu_seconds"] = t.user_attrs[CPU_ATTR]
    if t.datetime_start and t.datetime_complete:
        row["seconds"] = round((t.datetime_complete - t.datetime_start).total_seconds(), 3)
    return row


def summarize_study(study: optuna.Study, *, multi_objective: bool) -> dict[str, Any]:
    """Best (or chosen Pareto) trial, counts per state, and for multi-objective the Pareto front and why the
    chosen trial was picked: the fastest (then smallest) among Pareto trials as accurate as the best one."""
    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise InvalidInput("No trial completed; raise n_optimization_trials or relax the search.",
                           field="n_optimization_trials")
    by_worker: dict[str, int] = {}
    for t in trials:
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED):
            worker = str(t.user_attrs.get(WORKER_ATTR, "unknown"))
            by_worker[worker] = by_worker.get(worker, 0) + 1
    summary: dict[str, Any] = {"trial_counts": counts, "trials_by_worker": by_worker,
                               "trials": [_trial_row(t) for t in trials]}
    if not multi_objective:
        best = study.best_trial
        summary.update(best_trial=best.number, best_value=float(study.best_value), best_params=best.params,
                       objective="mean %d-fold accuracy on the training split" % N_FOLDS)
        return summary
    front = study.best_trials
    top_accuracy = max(t.values[0] for t in front)
    near = [t for t in front if t.values[0] >= top_accuracy - PARETO_ACCURACY_SLACK]
    chosen = min(near, key=lambda t: (t.values[1], t.values[2]))
    summary.update(
        best_trial=chosen.number, best_value=float(chosen.values[0]), best_params=chosen.params,
        objective="accuracy (max), single-row latency µs (min), serialized size bytes (min)",
        pareto_front=[{"number": t.number, "accuracy": t.values[0], "latency_us": t.values[1],
                       "size_bytes": int(t.values[2]), "params": t.params} for t in front],
        choice_explanation=(
            f"Trial {chosen.number} is on the Pareto front of {len(front)} trials. Its accuracy "
            f"{chosen.values[0]:.4f} is within {PARETO_ACCURACY_SLACK:.3f} of the most accurate Pareto trial "
            f"({top_accuracy:.4f}); among the {len(near)} Pareto trials that close it has the lowest single-row "
            f"latency ({chosen.values[1]:.1f} µs), then the smallest size ({int(chosen.values[2])} bytes)."))
    return summary
