"""The classifier itself: served (ONNX) path equals the scikit-learn reference, calibration is fitted, and the model
generalises to hand-written events it never saw (English, Korean, typos, emoji)."""

import numpy as np
import pytest

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.features.event_features import event_text
from geulpi_tasks.models.event_classifier import (
    ForestParams,
    RecipeParams,
    apply_temperature,
    expected_calibration_error,
    labelled_to_inputs,
    train_event_classifier,
)
from geulpi_tasks.models.runtime import FastTfidf, ServedClassifier, save_bundle
from geulpi_tasks.schemas import parse_event

# The hand-labelled dev sets: the model fits on their fit share and is judged on the holdout it never saw (the
# frozen test set is only for reports).
DEV_FIT, DEV_HOLDOUT = split_dev(load_rows(SetRole.DEV))


@pytest.fixture(scope="module")
def trained():
    train, val, test = split_events(generate_events(4000, seed=3), seed=3)
    return train_event_classifier(train, val, test, seed=3, forest=ForestParams(n_estimators=40),
                                  recipe=RecipeParams(extra_weight=3.0), extra_rows=DEV_FIT,
                                  calibration_rows=DEV_HOLDOUT)


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory):
    bundle = save_bundle(trained, tmp_path_factory.mktemp("bundle") / "b")
    return ServedClassifier.load(bundle, name="event_classifier", version="t")


@pytest.fixture(scope="module")
def realistic():
    rows = DEV_HOLDOUT
    events, y = labelled_to_inputs(rows)
    return rows, events, y


def test_fast_tfidf_equals_scikit_learn(trained, realistic):
    _, events, _ = realistic
    vectorizer = trained.vectorizer.transformer_list[0][1]
    fast = FastTfidf(vectorizer, offset=0)
    for event in events[:50]:
        expected = vectorizer.transform([event_text(event)]).toarray()[0]
        idx, values = fast.features(event_text(event))
        got = np.zeros_like(expected, dtype=np.float64)
        got[idx] = values
        assert np.allclose(got, expected, atol=1e-6)


def test_served_path_matches_the_reference_model(trained, served, realistic):
    _, events, _ = realistic
    fast, reference = served.predict_proba(events), trained.predict_proba(events)
    assert np.abs(fast - reference).max() < 1e-4
    assert (fast.argmax(axis=1) == reference.argmax(axis=1)).all()
    assert np.allclose(fast.sum(axis=1), 1.0)


def test_single_and_batch_predictions_agree(served, realistic):
    _, events, _ = realistic
    batch = served.predict_proba(events[:20])
    singles = np.vstack([served.predict_proba([e]) for e in events[:20]])
    assert np.allclose(batch, singles, atol=1e-9)


def test_temperature_is_fitted_and_calibration_is_measured(trained, realistic):
    assert trained.temperature != 1.0
    # The temperature is fitted on real (hand-labelled) events, where it must help; generated events, which the
    # model finds easier, stay reasonably calibrated too.
    # The temperature minimises log-loss on the calibration rows, so it can only lower it there.
    _rows, events, y = realistic
    raw = trained.forest.predict_proba(trained.stage2_features(events))
    nll = lambda p: float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))  # noqa: E731
    assert nll(apply_temperature(raw, trained.temperature)) < nll(raw)
    assert 0.0 <= trained.metrics["ece"] < 0.1
    probs = np.array([[0.6, 0.2, 0.2]])
    assert apply_temperature(probs, 0.5)[0, 0] > 0.6 > apply_temperature(probs, 2.0)[0, 0]
    assert expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


def test_metrics_are_measured_on_the_held_out_split(trained):
    metrics = trained.metrics
    assert metrics["test_rows"] > 0 and 0.8 < metrics["accuracy"] <= 1.0
    assert set(metrics["per_class"]) == {"WORK", "PERSONAL", "HEALTH", "SOCIAL", "LEARNING", "OTHER"}
    fingerprint = trained.data_fingerprint
    assert fingerprint["train"]["sha256"] != fingerprint["test"]["sha256"]


def test_generalises_to_hand_written_events_in_both_languages(served, realistic):
    rows, events, y = realistic
    pred = served.predict_proba(events).argmax(axis=1)
    langs = np.array([r["lang"] for r in rows])
    overall = float((pred == y).mean())
    # This small test model (4000 generated events + the dev fit share) measured 0.817 overall, 0.789 English and
    # 0.836 Korean on the 448-event dev holdout; the production recipe trains on more (see the README's figures).
    assert overall >= 0.78, overall
    for lang in ("en", "ko"):
        mask = langs == lang
        assert float((pred[mask] == y[mask]).mean()) >= 0.75, lang


def test_missing_fields_never_become_the_word_none():
    event = parse_event({"title": "Lunch", "description": None, "location": None,
                         "startTime": "2024-01-20T12:00:00", "endTime": "2024-01-20T13:00:00"})
    assert "none" not in event_text(event)


def _event(title):
    return parse_event({"title": title, "startTime": "2025-03-04T10:00:00", "endTime": "2025-03-04T11:00:00"})


@pytest.mark.parametrize("title", ["a", "asdf", "???", "ㅋㅋ", ".", "meeting?"])
def test_meaningless_titles_get_a_low_confidence(served, title):
    # LABELS.md: a best guess is allowed, a confident one is not (needsReview at the 0.7 threshold).
    assert served.predict_proba([_event(title)])[0].max() < 0.5, title


@pytest.mark.parametrize("title,category", [("gym", "HEALTH"), ("치과", "HEALTH"), ("standup", "WORK"),
                                            ("Flight home", "OTHER"), ("Visit grandparents", "SOCIAL"),
                                            ("Renew gym membership", "PERSONAL"),
                                            ("AWS certification exam", "LEARNING")])
def test_ordinary_short_titles_keep_a_high_confidence(served, title, category):
    probs = served.predict_proba([_event(title)])[0]
    assert served.classes[int(probs.argmax())] == category and probs.max() >= 0.7, (title, probs.max())


def test_served_priority_matches_the_reference_and_follows_the_rules(trained, served, realistic):
    _, events, _ = realistic
    assert trained.priority is not None and served.priority_model is not None
    probs, priorities = served.predict_with_priority(events)
    assert priorities == trained.predict_priority(events, trained.predict_proba(events))
    assert np.allclose(probs, served.predict_proba(events), atol=1e-12)
    assert served.predict_with_priority([_event("URGENT: gym")])[1] == ["HIGH"]
    assert served.predict_with_priority([_event("maybe laundry")])[1] == ["LOW"]
    assert served.predict_with_priority([_event("maybe client call asap")])[1] == ["HIGH"]
    assert served.predict_with_priority([_event("final exam")])[1] == ["HIGH"]
    assert served.predict_with_priority([_event("do laundry")])[1] == ["LOW"]
    assert len(set(priorities)) == 3
