"""Tree pruning keeps accuracy within tolerance with fewer trees; AutoML stops within its budget plus one trial."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.optimization.automl import AutoMLOptimizer
from geulpi_tasks.optimization.compression import prune_forest


@pytest.fixture(scope="module")
def split():
    x, y = make_classification(n_samples=1500, n_features=12, n_informative=7, n_classes=4, random_state=2)
    return x[:900], y[:900], x[900:1200], y[900:1200], x[1200:], y[1200:]


def test_pruning_keeps_accuracy_within_tolerance_with_fewer_trees(split):
    x_tr, y_tr, x_sel, y_sel, x_te, y_te = split
    forest = RandomForestClassifier(n_estimators=80, random_state=0, n_jobs=1).fit(x_tr, y_tr)
    result = prune_forest(forest, x_sel, y_sel, tolerance=0.005, x_test=x_te, y_test=y_te)
    before, after = result.report["before"], result.report["after"]
    assert after["trees"] == len(result.kept_trees) < before["trees"] == 80
    # Within tolerance on the half of the selection split the tree order never saw, measured on the pruned forest.
    assert after["check_accuracy"] >= before["check_accuracy"] - 0.005
    check = np.arange(len(y_sel)) % 2 == 1
    assert after["check_accuracy"] == pytest.approx(np.mean(result.forest.predict(x_sel[check]) == y_sel[check]))
    assert after["selection_accuracy"] == pytest.approx(np.mean(result.forest.predict(x_sel) == y_sel))
    assert after["onnx_size_bytes"] < before["onnx_size_bytes"]
    for side in (before, after):
        assert side["onnx_latency_p50_us"] > 0 and side["sklearn_latency_p50_us"] > 0 and "test_accuracy" in side
    # The greedy curve's chosen prefix is the first within tolerance: one tree fewer would not be.
    curve = result.report["check_accuracy_curve"]
    k = after["trees"]
    assert all(acc < before["check_accuracy"] - 0.005 for acc in curve[:k - 1])
    assert forest.n_estimators == 80 and len(forest.estimators_) == 80  # the original is untouched


def test_pruning_rejects_a_bad_tolerance(split):
    x_tr, y_tr, x_sel, y_sel, *_ = split
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(x_tr, y_tr)
    with pytest.raises(InvalidInput) as err:
        prune_forest(forest, x_sel, y_sel, tolerance=1.5)
    assert err.value.field == "prune_tolerance"


def test_automl_respects_its_time_budget_and_reports_every_trial(split):
    x_tr, y_tr, x_sel, y_sel, *_ = split
    budget_minutes = 0.05  # 3 s; the quick families keep the test fast on a busy machine
    started = time.perf_counter()
    result = AutoMLOptimizer(time_budget_minutes=budget_minutes, seed=1,
                             families=("logistic_regression", "random_forest", "extra_trees")
                             ).find_best_model(x_tr, y_tr)
    elapsed = time.perf_counter() - started
    longest_trial = max(row["seconds"] for row in result.trials)
    assert elapsed <= budget_minutes * 60 + longest_trial + 1.0  # budget + one trial (+ split/set-up slack)
    assert result.trials and {row["family"] for row in result.trials} <= {
        "logistic_regression", "random_forest", "extra_trees"}
    best_row = max(result.trials, key=lambda r: r["holdout_accuracy"])
    assert result.best_score == best_row["holdout_accuracy"] and result.best_family == best_row["family"]
    assert np.mean(result.best_model.predict(x_sel) == y_sel) > 0.5


def test_automl_tries_every_family_first_when_the_budget_allows(split):
    x_tr, y_tr, *_ = split
    result = AutoMLOptimizer(time_budget_minutes=5, seed=1, max_trials=5).find_best_model(x_tr[:200], y_tr[:200])
    assert [row["family"] for row in result.trials] == ["logistic_regression", "random_forest", "extra_trees",
                                                        "hist_gradient_boosting", "xgboost"]


@pytest.mark.parametrize("budget", [0, -1, "2", 10_000])
def test_automl_rejects_a_bad_budget(budget):
    with pytest.raises(InvalidInput) as err:
        AutoMLOptimizer(time_budget_minutes=budget)
    assert err.value.field == "time_budget_minutes"
