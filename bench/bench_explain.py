"""Explanations cost nothing unless asked (issue 17): served single-event classification time, in-process, of the
same model without explain, then with explain (first call excluded: it loads the term names and the stage-2
reference), interleaved call by call, plus the time of ``explain`` alone.

Usage: python bench/bench_explain.py [--samples 4000] [--calls 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.data.generator import generate_events, split_events  # noqa: E402
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev  # noqa: E402
from geulpi_tasks.inference.classification import classify_events  # noqa: E402
from geulpi_tasks.models.event_classifier import train_event_classifier  # noqa: E402
from geulpi_tasks.models.runtime import ServedClassifier, save_bundle  # noqa: E402
from geulpi_tasks.schemas import parse_event  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    train, val, test = split_events(generate_events(args.samples, seed=7), seed=7)
    _fit, holdout = split_dev(load_rows(SetRole.DEV))
    model = train_event_classifier(train, val, test, seed=7, calibration_rows=holdout)
    events = [parse_event(r) for r in holdout]
    with tempfile.TemporaryDirectory() as tmp:
        served = ServedClassifier.load(save_bundle(model, Path(tmp) / "b"), name="event_classifier", version="1")
        plain, explained = [], []
        for i in range(args.calls):
            event = [events[i % len(events)]]
            t0 = time.perf_counter()
            classify_events(served, event, review_threshold=0.7)
            t1 = time.perf_counter()
            classify_events(served, event, review_threshold=0.7, explain=True)
            t2 = time.perf_counter()
            if i:
                plain.append((t1 - t0) * 1e6)
                explained.append((t2 - t1) * 1e6)
    for name, values in (("classify, no explain", plain), ("classify + explain", explained)):
        print(f"{name:24s} p50 {np.percentile(values, 50):8.1f} µs  p99 {np.percentile(values, 99):8.1f} µs")


if __name__ == "__main__":
    main()
