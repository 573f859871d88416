"""Served single-event latency of an XGBoost stage-2 model next to the RandomForest one (issue 3).

Both go through the same served path (``ServedClassifier``: fast TF-IDF → text logits → ONNX Runtime on one thread
→ temperature), built from bundles that share one text stage, so the difference is the stage-2 model alone.
Measured in-process, interleaved event by event so machine noise hits every row alike. Also printed: the stage-2
graph alone in ONNX Runtime, the reference model's own predict_proba (scikit-learn / XGBoost), held-out accuracy
and the ONNX size.

Usage: python bench/bench_stage2_families.py [--samples 6000] [--events 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.data.generator import generate_events, split_events  # noqa: E402
from geulpi_tasks.models.event_classifier import (  # noqa: E402
    ForestParams,
    TrainedClassifier,
    apply_temperature,
    fit_temperature,
)
from geulpi_tasks.models.runtime import ServedClassifier, save_bundle  # noqa: E402
from geulpi_tasks.optimization.search import RANDOM_FOREST, XGBOOST, build_estimator, onnx_session  # noqa: E402
from geulpi_tasks.schemas import CATEGORIES, parse_event  # noqa: E402
from geulpi_tasks.training.text_stage import fit_text_stage  # noqa: E402

# The served default forest, a mid-size booster, and the largest booster the search space allows.
MODELS = {
    "random_forest (default 120 trees)": (RANDOM_FOREST, dict(ForestParams().__dict__)),
    "xgboost 150 rounds depth 6": (XGBOOST, {"n_estimators": 150, "max_depth": 6, "learning_rate": 0.1,
                                             "subsample": 0.9, "colsample_bytree": 0.9}),
    "xgboost 200 rounds depth 10 (space max)": (XGBOOST, {"n_estimators": 200, "max_depth": 10,
                                                          "learning_rate": 0.05, "subsample": 0.9,
                                                          "colsample_bytree": 0.9}),
}


def p(values: list[float], q: float) -> float:
    return float(np.quantile(values, q) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    train, val, test = split_events(generate_events(args.samples, seed=args.seed), seed=args.seed)
    vectorizer, text_model, data = fit_text_stage(train, val, test, label="category", classes=CATEGORIES,
                                                  seed=args.seed)
    events = [parse_event(r) for r in test]
    sample = [events[i % len(events)] for i in range(args.events)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        served, stage2, reference = {}, {}, {}
        for label, (family, params) in MODELS.items():
            model = build_estimator(family, params, seed=args.seed, n_jobs=-1)
            model.fit(data.x_train, data.y_train)
            if family == XGBOOST:
                model.set_params(n_jobs=1)  # the reference row below: one thread, like the served runtime
            else:
                model.n_jobs = 1
            temperature = fit_temperature(model.predict_proba(data.x_val), data.y_val)
            trained = TrainedClassifier(vectorizer=vectorizer, text_model=text_model, forest=model,
                                        temperature=temperature, classes=CATEGORIES)
            bundle = save_bundle(trained, Path(tmp) / label.split()[0] / str(len(served)))
            served[label] = ServedClassifier.load(bundle, name="bench", version=label)
            session = onnx_session((bundle / "forest.onnx").read_bytes())
            stage2[label] = (session, session.get_inputs()[0].name, session.get_outputs()[-1].name)
            reference[label] = model
            accuracy = float(np.mean(apply_temperature(model.predict_proba(data.x_test), temperature).argmax(1)
                                     == data.y_test))
            rows.append({"label": label, "accuracy": accuracy,
                         "onnx_kb": (bundle / "forest.onnx").stat().st_size / 1024})

        timings: dict[str, list[float]] = {label: [] for label in MODELS}
        stage2_t: dict[str, list[float]] = {label: [] for label in MODELS}
        native_t: dict[str, list[float]] = {label: [] for label in MODELS}
        x32 = data.x_test.astype(np.float32)
        for label in MODELS:  # warm-up
            served[label].predict_proba(sample[:1])
        for i, event in enumerate(sample):
            for label in MODELS:
                t0 = time.perf_counter()
                served[label].predict_proba([event])
                timings[label].append(time.perf_counter() - t0)
                session, name, output = stage2[label]
                row = x32[i % len(x32): i % len(x32) + 1]
                t0 = time.perf_counter()
                session.run([output], {name: row})
                stage2_t[label].append(time.perf_counter() - t0)
                if i < 200:
                    t0 = time.perf_counter()
                    reference[label].predict_proba(row)
                    native_t[label].append(time.perf_counter() - t0)

    print(f"\nServed single-event latency, {args.events} events interleaved, {args.samples} generated events "
          f"(train {len(train)}, test {len(test)}); load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores")
    print(f"{'stage-2 model':<42} {'served p50 µs':>13} {'p95 µs':>8} {'ONNX stage2 p50':>16} "
          f"{'native p50 µs':>14} {'accuracy':>9} {'ONNX KiB':>9}")
    for r in rows:
        label = r["label"]
        print(f"{label:<42} {p(timings[label], 0.5):>13.0f} {p(timings[label], 0.95):>8.0f} "
              f"{p(stage2_t[label], 0.5):>16.0f} {p(native_t[label], 0.5):>14.0f} {r['accuracy']:>9.4f} "
              f"{r['onnx_kb']:>9.0f}")


if __name__ == "__main__":
    main()
