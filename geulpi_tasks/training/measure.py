"""Phase 4 of a training job: calibrate the candidate, score it on held-out rows, and time the served runtime."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from geulpi_tasks.models.event_classifier import (
    TrainedClassifier,
    apply_temperature,
    evaluate,
    expected_calibration_error,
    fit_temperature,
)
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.optimization.search import Stage2Data
from geulpi_tasks.schemas import parse_event

LATENCY_EVENTS = 200
THROUGHPUT_BATCH = 1000


def calibrate_and_evaluate(stage2: Any, data: Stage2Data, classes: tuple[str, ...]) -> tuple[float, dict[str, Any]]:
    """(temperature fitted on the validation split, metrics of the calibrated model on the test split)."""
    temperature = fit_temperature(stage2.predict_proba(data.x_val), data.y_val)
    raw_test = stage2.predict_proba(data.x_test)
    metrics = evaluate(apply_temperature(raw_test, temperature), data.y_test, classes)
    metrics["ece_uncalibrated"] = expected_calibration_error(raw_test, data.y_test)
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
