"""The event classifier: a character n-gram text model stacked under a random forest, then calibrated.

Why this shape:
- char n-gram TF-IDF + logistic regression reads English, Korean, typos and emoji robustly;
- a forest on [out-of-fold text probabilities + time/context numbers] learns when the clock should overrule the words;
- a single temperature fitted on the validation split turns the forest's votes into calibrated probabilities;
- the forest is exported to ONNX and served single-threaded, since scikit-learn spends milliseconds per row in
  overhead while the ONNX tree kernel needs microseconds (see ``models/runtime.py``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion

from geulpi_tasks.features.event_features import (
    FEATURE_SCHEMA_VERSION,
    NUMERIC_FEATURES,
    event_text,
    numeric_features,
)
from geulpi_tasks.schemas import CATEGORIES, EventInput, parse_event


@dataclass
class ForestParams:
    n_estimators: int = 120
    max_depth: int | None = 18
    min_samples_leaf: int = 3
    min_samples_split: int = 2
    max_features: str | float = "sqrt"


@dataclass
class TextParams:
    c: float = 8.0
    char_ngrams: tuple[int, int] = (1, 4)
    max_features: int = 60000


@dataclass
class TrainedClassifier:
    """Everything a served model is built from, plus how it did on data it never saw."""

    vectorizer: FeatureUnion
    text_model: LogisticRegression
    forest: RandomForestClassifier
    temperature: float
    classes: tuple[str, ...]
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: dict[str, Any] = field(default_factory=dict)

    def stage2_features(self, events: Sequence[EventInput]) -> np.ndarray:
        text_probs = self.text_model.predict_proba(self.vectorizer.transform([event_text(e) for e in events]))
        return np.hstack([text_probs, numeric_features(events)])

    def predict_proba(self, events: Sequence[EventInput]) -> np.ndarray:
        """Reference (pure scikit-learn) prediction; the served path must agree with it."""
        return apply_temperature(self.forest.predict_proba(self.stage2_features(events)), self.temperature)


def build_vectorizer(params: TextParams) -> FeatureUnion:
    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, min_df=2, sublinear_tf=True,
                                  max_features=params.max_features, dtype=np.float32)),
        ("words", TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), min_df=2,
                                  sublinear_tf=True, max_features=params.max_features // 2, dtype=np.float32)),
    ])


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """p_i^(1/T) renormalised: T<1 sharpens under-confident forest votes, T>1 softens over-confident ones."""
    logp = np.log(np.clip(probs, 1e-6, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    def nll(t: float) -> float:
        p = apply_temperature(probs, t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))
    result = minimize_scalar(nll, bounds=(0.05, 5.0), method="bounded")
    return float(result.x)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (confidence > lo) & (confidence <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def labelled_to_inputs(rows: Sequence[dict[str, Any]]) -> tuple[list[EventInput], np.ndarray]:
    """Parse labelled event dicts (generator output, feedback, test files) into inputs and class indices."""
    events = [parse_event(r) for r in rows]
    y = np.asarray([CATEGORIES.index(r["category"]) for r in rows], dtype=np.int64)
    return events, y


def data_fingerprint(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode())
    return {"sha256": digest.hexdigest(), "rows": len(rows),
            "rows_per_class": dict(sorted(Counter(r["category"] for r in rows).items()))}


def evaluate(probs: np.ndarray, y: np.ndarray, classes: Sequence[str] = CATEGORIES) -> dict[str, Any]:
    """Accuracy, macro-F1/precision/recall, per-class precision and recall, log-loss and ECE of calibrated probs."""
    pred = probs.argmax(axis=1)
    labels = list(range(len(classes)))
    precision, recall, _f1, _ = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "log_loss": float(log_loss(y, np.clip(probs, 1e-12, 1.0), labels=labels)),
        "ece": expected_calibration_error(probs, y),
        "per_class": {c: {"precision": float(p), "recall": float(r)}
                      for c, p, r in zip(classes, precision, recall)},
    }


def train_event_classifier(train_rows: Sequence[dict[str, Any]], val_rows: Sequence[dict[str, Any]],
                           test_rows: Sequence[dict[str, Any]], *, seed: int = 7,
                           forest: ForestParams | None = None, text: TextParams | None = None) -> TrainedClassifier:
    """Fit the stacked model on ``train_rows``, calibrate on ``val_rows`` and measure on ``test_rows`` only."""
    forest = forest or ForestParams()
    text = text or TextParams()
    train_events, y_train = labelled_to_inputs(train_rows)
    val_events, y_val = labelled_to_inputs(val_rows)
    test_events, y_test = labelled_to_inputs(test_rows)
    started = time.perf_counter()

    vectorizer = build_vectorizer(text)
    x_text = vectorizer.fit_transform([event_text(e) for e in train_events])
    text_model = LogisticRegression(C=text.c, max_iter=3000, random_state=seed)
    # Out-of-fold text probabilities: the forest must learn how far to trust the text model on unseen text.
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    oof = cross_val_predict(text_model, x_text, y_train, cv=folds, method="predict_proba")
    text_model.fit(x_text, y_train)

    rf = RandomForestClassifier(
        n_estimators=forest.n_estimators, max_depth=forest.max_depth, min_samples_leaf=forest.min_samples_leaf,
        min_samples_split=forest.min_samples_split, max_features=forest.max_features, random_state=seed, n_jobs=-1,
    )
    rf.fit(np.hstack([oof, numeric_features(train_events)]), y_train)
    model = TrainedClassifier(vectorizer=vectorizer, text_model=text_model, forest=rf, temperature=1.0,
                              classes=CATEGORIES)
    model.temperature = fit_temperature(rf.predict_proba(model.stage2_features(val_events)), y_val)
    train_seconds = time.perf_counter() - started

    raw_test = rf.predict_proba(model.stage2_features(test_events))
    metrics = evaluate(apply_temperature(raw_test, model.temperature), y_test)
    metrics["ece_uncalibrated"] = expected_calibration_error(raw_test, y_test)
    metrics["train_seconds"] = train_seconds
    metrics["test_rows"] = len(test_rows)
    model.metrics = metrics
    model.params = {"forest": forest.__dict__, "text": {**text.__dict__, "char_ngrams": list(text.char_ngrams)},
                    "temperature": model.temperature, "seed": seed,
                    "feature_schema_version": FEATURE_SCHEMA_VERSION,
                    "numeric_features": list(NUMERIC_FEATURES)}
    model.data_fingerprint = {"train": data_fingerprint(train_rows), "validation": data_fingerprint(val_rows),
                              "test": data_fingerprint(test_rows)}
    return model
