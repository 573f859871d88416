"""An XGBoost stage-2 model is served through the same ONNX runtime as a forest: the exported graph and the whole
served path give the probabilities of XGBoost's own predict_proba (and of the reference model), the bundle says
which family it holds, and the multi-objective cost measures the ONNX artifact for both families."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.models.event_classifier import TrainedClassifier, apply_temperature, fit_temperature
from geulpi_tasks.models.onnx_export import stage2_family, stage2_onnx_bytes
from geulpi_tasks.models.runtime import ServedClassifier, load_reference, save_bundle
from geulpi_tasks.optimization.search import RANDOM_FOREST, XGBOOST, build_estimator, model_cost, onnx_session
from geulpi_tasks.schemas import CATEGORIES, parse_event
from geulpi_tasks.training.text_stage import fit_text_stage

XGB_PARAMS = {"learning_rate": 0.15, "max_depth": 5, "subsample": 0.8, "colsample_bytree": 0.8, "n_estimators": 60,
              "min_child_weight": 1.0, "reg_lambda": 1.0}


@pytest.fixture(scope="module")
def stage():
    train, val, test = split_events(generate_events(1500, seed=5), seed=5)
    vectorizer, text_model, data = fit_text_stage(train, val, test, label="category", classes=CATEGORIES, seed=5)
    return train, val, test, vectorizer, text_model, data


@pytest.fixture(scope="module")
def xgb_model(stage):
    _, _, _, vectorizer, text_model, data = stage
    booster = build_estimator(XGBOOST, XGB_PARAMS, seed=5)
    booster.fit(data.x_train, data.y_train)
    temperature = fit_temperature(booster.predict_proba(data.x_val), data.y_val)
    return TrainedClassifier(vectorizer=vectorizer, text_model=text_model, forest=booster, temperature=temperature,
                             classes=CATEGORIES, params={"stage2_family": XGBOOST})


def test_exported_xgboost_graph_equals_xgboost_predict_proba(stage, xgb_model):
    data = stage[5]
    x = np.vstack([data.x_val, data.x_test]).astype(np.float32)
    session = onnx_session(stage2_onnx_bytes(xgb_model.forest, x.shape[1]))
    onnx_probs = session.run([session.get_outputs()[-1].name], {session.get_inputs()[0].name: x})[0]
    assert onnx_probs.shape == (len(x), len(CATEGORIES))
    assert np.abs(onnx_probs - xgb_model.forest.predict_proba(x)).max() < 1e-5


def test_served_xgboost_bundle_matches_the_reference_and_names_its_family(stage, xgb_model, tmp_path):
    test_rows = stage[2]
    bundle = save_bundle(xgb_model, tmp_path / "bundle")
    assert json.loads((bundle / "meta.json").read_text())["stage2_family"] == XGBOOST
    served = ServedClassifier.load(bundle, name="event_classifier", version="x")
    assert served.family == XGBOOST
    events = [parse_event(r) for r in test_rows]
    fast = served.predict_proba(events)
    reference = load_reference(bundle).predict_proba(events)
    assert np.abs(fast - reference).max() < 1e-5
    assert (fast.argmax(axis=1) == reference.argmax(axis=1)).all()
    singles = np.vstack([served.predict_proba([e]) for e in events[:20]])
    assert np.allclose(singles, fast[:20], atol=1e-9)
    # The calibrated reference is XGBoost's own predict_proba on the stage-2 features, tempered.
    direct = apply_temperature(xgb_model.forest.predict_proba(xgb_model.stage2_features(events)),
                               xgb_model.temperature)
    assert np.abs(fast - direct).max() < 1e-5


def test_forest_bundles_still_say_random_forest(stage, tmp_path):
    _, _, _, vectorizer, text_model, data = stage
    forest = build_estimator(RANDOM_FOREST, {"n_estimators": 10, "max_depth": 6}, seed=5)
    forest.fit(data.x_train, data.y_train)
    model = TrainedClassifier(vectorizer=vectorizer, text_model=text_model, forest=forest, temperature=1.0,
                              classes=CATEGORIES)
    assert stage2_family(forest) == RANDOM_FOREST
    served = ServedClassifier.load(save_bundle(model, tmp_path / "rf"), name="event_classifier", version="r")
    assert served.family == RANDOM_FOREST


def test_multi_objective_cost_measures_the_onnx_artifact_for_xgboost(stage, xgb_model):
    cost = model_cost(xgb_model.forest, XGBOOST, stage[5].x_val[:30])
    assert cost["runtime"] == "onnxruntime" and cost["latency_us"] > 0 and cost["size_bytes"] > 0
