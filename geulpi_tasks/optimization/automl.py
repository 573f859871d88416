"""A time-budgeted AutoML search over several model families and their hyperparameters.

Each trial fits one family with sampled hyperparameters on 80 % of the training data and scores it on the other
20 %; the search starts no trial after the budget, so it ends within the budget plus one trial. The best fitted
model is refit on all the data only if the remaining budget allows (the time its fit took), else returned as is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import optuna
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.models.onnx_export import EXTRA_TREES, RANDOM_FOREST, XGBOOST
from geulpi_tasks.optimization.search import build_estimator, suggest_params

AUTOML_FAMILIES: tuple[str, ...] = ("logistic_regression", RANDOM_FOREST, EXTRA_TREES, "hist_gradient_boosting",
                                    XGBOOST)
# Families the served ONNX runtime can export (skl2onnx converters; XGBoost through onnxmltools').
EXPORTABLE_FAMILIES: tuple[str, ...] = (RANDOM_FOREST, EXTRA_TREES, XGBOOST)
MAX_BUDGET_MINUTES = 24 * 60


@dataclass
class AutoMLResult:
    best_model: Any
    best_family: str
    best_params: dict[str, Any]
    best_score: float
    refit_on_all_data: bool
    elapsed_seconds: float
    budget_seconds: float
    trials: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        return self.trials


def _estimator(trial: optuna.Trial, family: str, seed: int) -> tuple[Any, dict[str, Any]]:
    if family == "logistic_regression":
        params = {"C": trial.suggest_float("lr_C", 1e-2, 1e2, log=True)}
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed, **params)), params
    if family == EXTRA_TREES:
        params = {"n_estimators": trial.suggest_int("et_n_estimators", 20, 200, step=10),
                  "max_depth": trial.suggest_int("et_max_depth", 4, 30),
                  "min_samples_leaf": trial.suggest_int("et_min_samples_leaf", 1, 8)}
        return ExtraTreesClassifier(random_state=seed, n_jobs=1, **params), params
    if family == "hist_gradient_boosting":
        params = {"learning_rate": trial.suggest_float("hgb_learning_rate", 0.02, 0.4, log=True),
                  "max_depth": trial.suggest_int("hgb_max_depth", 2, 10),
                  "max_iter": trial.suggest_int("hgb_max_iter", 30, 200, step=10)}
        return HistGradientBoostingClassifier(random_state=seed, **params), params
    if family in (RANDOM_FOREST, XGBOOST):
        params = suggest_params(trial, family)
        return build_estimator(family, params, seed=seed), params
    raise InvalidInput(f"Unknown AutoML family '{family}'; use one of {', '.join(AUTOML_FAMILIES)}.",
                       field="families")


class AutoMLOptimizer:
    """Search several model families within ``time_budget_minutes``; see the module docstring for the promise."""

    def __init__(self, time_budget_minutes: float, *, families: Sequence[str] = AUTOML_FAMILIES, seed: int = 7,
                 holdout_fraction: float = 0.2, max_trials: int | None = None):
        if not (isinstance(time_budget_minutes, (int, float)) and 0 < time_budget_minutes <= MAX_BUDGET_MINUTES):
            raise InvalidInput(f"'time_budget_minutes' must be a number in (0, {MAX_BUDGET_MINUTES}].",
                               field="time_budget_minutes")
        unknown = [f for f in families if f not in AUTOML_FAMILIES]
        if unknown or not families:
            raise InvalidInput(f"Unknown AutoML families {unknown}; use some of {', '.join(AUTOML_FAMILIES)}.",
                               field="families")
        self.budget_s = float(time_budget_minutes) * 60.0
        self.families = tuple(families)
        self.seed = seed
        self.holdout_fraction = holdout_fraction
        self.max_trials = max_trials

    def find_best_model(self, X_train: np.ndarray, y_train: np.ndarray) -> AutoMLResult:  # noqa: N803 - the issue's API
        """Best model (highest hold-out accuracy) and the table of every trial. Raises InvalidInput on empty or
        single-class data."""
        x = np.asarray(X_train)
        y = np.asarray(y_train)
        if len(x) != len(y) or len(x) < 10 or len(np.unique(y)) < 2:
            raise InvalidInput("AutoML needs at least 10 rows, matching labels, and two classes.", field="X_train")
        started = time.perf_counter()
        x_fit, x_hold, y_fit, y_hold = train_test_split(x, y, test_size=self.holdout_fraction, stratify=y,
                                                        random_state=self.seed)
        rows: list[dict[str, Any]] = []
        fitted: dict[int, tuple[Any, str, dict[str, Any], float, float]] = {}

        def objective(trial: optuna.Trial) -> float:
            family = trial.suggest_categorical("family", list(self.families))
            model, params = _estimator(trial, family, self.seed)
            t0 = time.perf_counter()
            model.fit(x_fit, y_fit)
            fit_s = time.perf_counter() - t0
            score = float(np.mean(model.predict(x_hold) == y_hold))
            rows.append({"trial": trial.number, "family": family, "params": params, "holdout_accuracy": score,
                         "fit_seconds": round(fit_s, 4),
                         "seconds": round(time.perf_counter() - t0, 4)})
            best_so_far = max((v[3] for v in fitted.values()), default=-1.0)
            if score > best_so_far:
                fitted.clear()
                fitted[trial.number] = (model, family, params, score, fit_s)
            return score

        sampler = optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=len(self.families))
        study = optuna.create_study(direction="maximize", sampler=sampler)
        # First one trial per family, so every family is tried at least once when the budget allows.
        for family in self.families:
            study.enqueue_trial({"family": family})
        study.optimize(objective, timeout=self.budget_s, n_trials=self.max_trials, catch=())
        (model, family, params, score, fit_seconds), = fitted.values()
        refit = time.perf_counter() - started + fit_seconds * 1.25 <= self.budget_s
        if refit:
            model.fit(x, y)
        return AutoMLResult(best_model=model, best_family=family, best_params=params, best_score=score,
                            refit_on_all_data=refit, elapsed_seconds=time.perf_counter() - started,
                            budget_seconds=self.budget_s, trials=rows)
