"""Phase 4 of a training job: calibrate the candidate, score it on held-out rows, and time the served runtime."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from geulpi_tasks.data.labelled_sets import SetRole, load_rows
from geulpi_tasks.models.event_classifier import (
    TrainedClassifier,
    apply_temperature,
    evaluate,
    expected_calibration_error,
    fit_temperature,
)
from geulpi_tasks.models.explain import IMPORTANCE_ROWS, NotExplainable
from geulpi_tasks.models.realistic_eval import flat_metrics, realistic_metrics
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.optimization.search import Stage2Data
from geulpi_tasks.registry.store import download_bundle, find_version_by_alias
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.training.data import TrainingRows

LATENCY_EVENTS = 200
THROUGHPUT_BATCH = 1000


def calibrate_and_evaluate(stage2: Any, data: Stage2Data, classes: tuple[str, ...],
                           calibration: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, dict[str, Any]]:
    """(temperature, metrics of the calibrated model on the generator's test split). The temperature is fitted on
    ``calibration`` (stage-2 inputs and labels of realistic rows held out of fitting) when given, else on the
    generator's validation split: confidence must be honest on real events, not on generated ones."""
    x_cal, y_cal = calibration if calibration is not None and len(calibration[1]) else (data.x_val, data.y_val)
    temperature = fit_temperature(stage2.predict_proba(x_cal), y_cal)
    raw_test = stage2.predict_proba(data.x_test)
    metrics = evaluate(apply_temperature(raw_test, temperature), data.y_test, classes)
    metrics["ece_uncalibrated"] = expected_calibration_error(raw_test, data.y_test)
    metrics["calibration_rows"] = float(len(y_cal))
    return temperature, metrics


def measure_runtime(bundle: Path, model: TrainedClassifier, test_rows: Sequence[dict]) -> dict[str, float]:
    """Single-event latency p50 through the served runtime (ONNX) and through the reference model (scikit-learn /
    XGBoost's own predict_proba), batch throughput of the served runtime, and the serialized bundle size."""
    served = ServedClassifier.load(bundle, name="candidate", version="0")
    events = [parse_event(r) for r in test_rows]
    sample = [events[i % len(events)] for i in range(LATENCY_EVENTS)]
    served.predict_proba(sample[:1])
    timings = []
    for e in sample:
        t0 = time.perf_counter()
        served.predict_proba([e])
        timings.append(time.perf_counter() - t0)
    sk_timings = []
    for e in sample[:20]:
        t0 = time.perf_counter()
        model.predict_proba([e])
        sk_timings.append(time.perf_counter() - t0)
    batch = [events[i % len(events)] for i in range(THROUGHPUT_BATCH)]
    t0 = time.perf_counter()
    served.predict_proba(batch)
    batch_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    onnx_size = (bundle / "forest.onnx").stat().st_size
    return {"latency_p50_us": float(np.median(timings) * 1e6),
            "latency_p95_us": float(np.quantile(timings, 0.95) * 1e6),
            "sklearn_latency_p50_us": float(np.median(sk_timings) * 1e6),
            "batch_throughput_eps": float(THROUGHPUT_BATCH / batch_s), "model_size_bytes": float(size),
            "onnx_size_bytes": float(onnx_size)}


def measure_realistic(bundle: Path, rows: TrainingRows, *, label: str, tracking_uri: str, model_name: str,
                      download_dir: Path) -> dict[str, Any]:
    """The figures the gates and reports use, beside the generator's: the candidate on the realistic dev holdout
    (decides), on the frozen realistic test set (reported only, never decides) and on the feedback holdout; and the
    production version on the same holdouts, measured now so both are judged on the same rows."""
    candidate = ServedClassifier.load(bundle, name="candidate", version="0")
    report: dict[str, Any] = {}
    flat: dict[str, float] = {}
    holdouts = {"dev": rows.realistic_holdout, "test": load_rows(SetRole.TEST) if rows.realistic_holdout else []}
    for name, part in holdouts.items():
        part = [r for r in part if r.get(label) in candidate.classes]
        if part:
            report[name] = realistic_metrics(candidate, part, label=label)
            flat.update(flat_metrics(f"realistic_{name}", report[name]))
    if rows.feedback_holdout:
        flat["feedback_holdout_accuracy"] = _accuracy(candidate, rows.feedback_holdout, label)
        flat["feedback_holdout_rows"] = float(len(rows.feedback_holdout))
    production = _production_model(tracking_uri, model_name, download_dir)
    if production is not None and list(production.classes) == list(candidate.classes):
        if rows.realistic_holdout:
            flat["production_realistic_dev_accuracy"] = _accuracy(production, rows.realistic_holdout, label)
        if rows.feedback_holdout:
            flat["production_feedback_holdout_accuracy"] = _accuracy(production, rows.feedback_holdout, label)
        flat["production_version"] = float(production.version)
    return {"realistic": report, **flat}


def _accuracy(model: ServedClassifier, rows: list[dict[str, Any]], label: str) -> float:
    events = [parse_event(r) for r in rows]
    classes = list(model.classes)
    y = np.asarray([classes.index(r[label]) for r in rows])
    return float(np.mean(model.predict_proba(events).argmax(axis=1) == y))


def _production_model(tracking_uri: str, name: str, download_dir: Path) -> ServedClassifier | None:
    """The version serving now, or None when there is none or this code cannot load it (older feature schema)."""
    ref = find_version_by_alias(tracking_uri, name)
    if ref is None:
        return None
    try:
        return ServedClassifier.load(download_bundle(tracking_uri, name, ref.version, download_dir), name=name,
                                     version=ref.version)
    except (KeyError, ValueError, FileNotFoundError):
        return None


def measure_importance(bundle: Path, rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """What drives each class for this version (``explain.global_importance``) over up to ``IMPORTANCE_ROWS`` held-out
    rows, read from the served bundle; None when there are no rows or the stage-2 family has no exact explainer."""
    events = [parse_event(r) for r in rows[:IMPORTANCE_ROWS]]
    if not events:
        return None
    served = ServedClassifier.load(bundle, name="candidate", version="candidate")
    try:
        return served.global_importance(events)
    except NotExplainable:
        return None
