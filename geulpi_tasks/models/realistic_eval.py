"""How a served model does on hand-labelled events: the figures every report puts beside the generator's."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from geulpi_tasks.models.event_classifier import expected_calibration_error
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.schemas import parse_event

# A confident error: wrong at or above this confidence.
CONFIDENT = 0.95


def realistic_metrics(model: ServedClassifier, rows: Sequence[dict[str, Any]], *, label: str = "category"
                      ) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, per-language and per-class F1, ECE, the share of confident errors, and
    (for the category model) priority accuracy/macro-F1 on rows that carry a priority, of ``model`` on labelled
    ``rows``. ``label`` is the row key the model predicts."""
    events = [parse_event(r) for r in rows]
    classes = list(model.classes)
    y = np.asarray([classes.index(r[label]) for r in rows])
    probs, priorities = model.predict_with_priority(events)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    out: dict[str, Any] = {
        "rows": len(rows),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=range(len(classes)), zero_division=0)),
        "macro_precision": float(precision_score(y, pred, average="macro", labels=range(len(classes)),
                                                 zero_division=0)),
        "macro_recall": float(recall_score(y, pred, average="macro", labels=range(len(classes)), zero_division=0)),
        "ece": expected_calibration_error(probs, y),
        "confident_error_share": float(np.mean((pred != y) & (conf >= CONFIDENT))),
        "per_class_f1": {c: float(f) for c, f in zip(classes, f1_score(
            y, pred, average=None, labels=range(len(classes)), zero_division=0))},
        "per_language": {},
    }
    langs = np.asarray([r.get("lang", "unknown") for r in rows])
    for lang in sorted(set(langs.tolist())):
        mask = langs == lang
        out["per_language"][lang] = {
            "rows": int(mask.sum()), "accuracy": float(accuracy_score(y[mask], pred[mask])),
            "macro_f1": float(f1_score(y[mask], pred[mask], average="macro", zero_division=0))}
    with_priority = [(guess, r["priority"]) for guess, r in zip(priorities, rows)
                     if r.get("priority") and label == "category"]
    if with_priority:
        truth = [p for _, p in with_priority]
        guess = [g for g, _ in with_priority]
        out["priority_accuracy"] = float(accuracy_score(truth, guess))
        out["priority_macro_f1"] = float(f1_score(truth, guess, average="macro", zero_division=0))
    return out


def flat_metrics(prefix: str, metrics: dict[str, Any]) -> dict[str, float]:
    """The scalar figures of ``realistic_metrics`` as MLflow metric names (``<prefix>_accuracy``, ...)."""
    flat = {f"{prefix}_{k}": float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    for lang, m in metrics["per_language"].items():
        flat[f"{prefix}_{lang}_macro_f1"] = m["macro_f1"]
    for cls, f in metrics["per_class_f1"].items():
        flat[f"{prefix}_f1_{cls}"] = f
    return flat
