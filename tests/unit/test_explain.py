"""Explanations come from the model itself and add up: for a logistic, an XGBoost and a forest stage 2, the
contributions of every stage-2 input plus the bias equal the served model's margin (read from the ONNX output)
within ``ADDITIVITY_TOLERANCE``, the n-gram contributions equal the text model's own log-odds, and the forest's
TreeSHAP values sum to its predict_proba."""

from __future__ import annotations

import numpy as np
import pytest

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.features.event_features import NUMERIC_FEATURES
from geulpi_tasks.models.event_classifier import (
    STAGE2_FOREST,
    ForestParams,
    RecipeParams,
    TrainedClassifier,
    labelled_to_inputs,
    train_event_classifier,
)
from geulpi_tasks.models.explain import (
    ADDITIVITY_TOLERANCE,
    LOG_ODDS,
    PROBABILITY,
    TOP_TERMS,
    explanation_total,
    forest_shap,
)
from geulpi_tasks.models.runtime import ServedClassifier, save_bundle
from geulpi_tasks.optimization.search import XGBOOST, build_estimator
from geulpi_tasks.schemas import CATEGORIES, parse_event

DEV_FIT, DEV_HOLDOUT = split_dev(load_rows(SetRole.DEV))
# Each figure of an explanation is rounded to 1e-6; a dozen of them add at most this much rounding.
ROUNDING = 2e-5


def _train(stage2: str) -> TrainedClassifier:
    train, val, test = split_events(generate_events(900, seed=11), seed=11)
    return train_event_classifier(train, val, test, seed=11, forest=ForestParams(n_estimators=8, max_depth=6),
                                  recipe=RecipeParams(stage2=stage2, oof_folds=3), calibration_rows=DEV_HOLDOUT)


@pytest.fixture(scope="module")
def logistic_model() -> TrainedClassifier:
    return _train("logistic")


@pytest.fixture(scope="module")
def forest_model() -> TrainedClassifier:
    return _train(STAGE2_FOREST)


@pytest.fixture(scope="module")
def xgboost_model(logistic_model: TrainedClassifier) -> TrainedClassifier:
    """The logistic model's text stage under an XGBoost stage 2 fitted on its stage-2 inputs."""
    train, _val, _test = split_events(generate_events(900, seed=11), seed=11)
    events, y = labelled_to_inputs(train)
    booster = build_estimator(XGBOOST, {"n_estimators": 30, "max_depth": 4, "learning_rate": 0.2}, seed=11)
    booster.fit(logistic_model.stage2_features(events), y)
    return TrainedClassifier(vectorizer=logistic_model.vectorizer, text_model=logistic_model.text_model,
                             forest=booster, temperature=0.8, classes=CATEGORIES)


def _served(model: TrainedClassifier, tmp_path_factory: pytest.TempPathFactory) -> ServedClassifier:
    bundle = save_bundle(model, tmp_path_factory.mktemp("bundle") / "b")
    return ServedClassifier.load(bundle, name="event_classifier", version="t")


@pytest.mark.parametrize("family", ["logistic_model", "xgboost_model", "forest_model"])
def test_contributions_add_up_to_the_served_margin(family: str, request: pytest.FixtureRequest,
                                                   tmp_path_factory: pytest.TempPathFactory):
    model = request.getfixturevalue(family)
    served = _served(model, tmp_path_factory)
    events, _y = labelled_to_inputs(DEV_HOLDOUT[:60])
    probs = served.predict_proba(events)
    explanations = served.explain(events)
    checked = 0
    for event_probs, explanation in zip(probs, explanations):
        order = np.argsort(-event_probs, kind="stable")
        assert explanation["class"] == CATEGORIES[order[0]] and explanation["runnerUp"] == CATEGORIES[order[1]]
        total, text_total = explanation_total(explanation)
        assert abs(total - explanation["margin"]) <= ADDITIVITY_TOLERANCE + ROUNDING
        assert abs(text_total - explanation["text"]["margin"]) <= ROUNDING
        assert len(explanation["terms"]) <= TOP_TERMS
        assert {f["name"] for f in explanation["features"]} <= set(NUMERIC_FEATURES)
        if explanation["units"] == LOG_ODDS:
            # The margin is what the caller sees: log(p / p_runnerUp) of the answered probabilities.
            p_c, p_r = event_probs[order[0]], event_probs[order[1]]
            if p_r > 1e-5:
                assert abs(np.log(p_c / p_r) - explanation["margin"]) <= ADDITIVITY_TOLERANCE
                checked += 1
        else:
            checked += 1
    assert checked >= 30
    assert explanations[0]["method"] == ("linear" if family == "logistic_model" else "tree_shap")


def test_forest_shap_values_sum_to_predict_proba(forest_model: TrainedClassifier):
    events = [parse_event(r) for r in DEV_HOLDOUT[:25]]
    z = forest_model.stage2_features(events)
    phi = forest_shap(forest_model.forest, z)
    assert np.abs(phi.sum(axis=1) - forest_model.forest.predict_proba(z.astype(np.float32))).max() < 1e-9


def test_forest_shap_is_the_exact_shapley_value_on_a_small_tree():
    # Two features, one depth-2 tree: TreeSHAP equals the Shapley value computed by brute force over coalitions,
    # with a missing feature's branch weighted by the training cover (the path-dependent value function).
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0.5)).astype(int)
    forest = RandomForestClassifier(n_estimators=1, max_depth=2, bootstrap=False, random_state=0).fit(x, y)
    tree = forest.estimators_[0].tree_
    point = np.array([0.3, -0.2])

    def value(known: set[int], node: int = 0) -> np.ndarray:
        if tree.children_left[node] < 0:
            leaf = tree.value[node, 0]
            return leaf / leaf.sum()
        f = tree.feature[node]
        left, right = tree.children_left[node], tree.children_right[node]
        if f in known:
            return value(known, left if point[f] <= tree.threshold[node] else right)
        w = tree.weighted_n_node_samples
        return (w[left] * value(known, left) + w[right] * value(known, right)) / w[node]

    shapley = [(value({i}) - value(set()) + value({0, 1}) - value({1 - i})) / 2 for i in range(2)]
    phi = forest_shap(forest, point[None, :])[0]
    assert np.allclose(phi[:2], shapley, atol=1e-9)
    assert np.allclose(phi[2], value(set()), atol=1e-9)


def test_forest_explanation_is_in_probability_units(forest_model, tmp_path_factory):
    served = _served(forest_model, tmp_path_factory)
    event = parse_event({"title": "Team standup", "startTime": "2024-01-22T09:00:00",
                         "endTime": "2024-01-22T09:15:00"})
    explanation = served.explain([event])[0]
    assert explanation["units"] == PROBABILITY and 0.0 <= explanation["margin"] <= 1.0


def test_global_importance_names_drivers_per_class(logistic_model, tmp_path_factory):
    served = _served(logistic_model, tmp_path_factory)
    events = [parse_event(r) for r in DEV_HOLDOUT[:80]]
    summary = served.global_importance(events)
    assert summary["rows"] == 80 and set(summary["per_class"]) == set(CATEGORIES)
    work = summary["per_class"]["WORK"]
    assert len(work["features"]) == 10 and work["terms_for"][0]["weight"] > 0
    assert work["terms_for"][0]["weight"] >= work["terms_for"][-1]["weight"]
