"""The frozen realistic test set, reported once: train the first model exactly as a fresh system does
(``ensure_production_model``'s recipe and the default settings) and print accuracy, macro-F1, per-language and
per-class F1, ECE, confident errors, priority, the confusion matrix and the ten most confident errors.

Run it only to report a final choice: the test set never chooses anything (see geulpi_tasks/data/labelled_sets.py).

    python -m bench.realistic_report [--samples N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from geulpi_tasks.data.labelled_sets import SetRole, load_rows
from geulpi_tasks.models.realistic_eval import realistic_metrics
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.registry.store import download_bundle
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.settings import Settings
from geulpi_tasks.training.bootstrap import ensure_production_model


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=defaults.bootstrap_samples)
    parser.add_argument("--trees", type=int, default=defaults.bootstrap_trees)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    rows = load_rows(SetRole.TEST)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        uri = f"sqlite:///{root / 'mlflow.db'}"
        started = time.perf_counter()
        ref, _ = ensure_production_model(tracking_uri=uri, artifact_root=root / "artifacts",
                                         model_name="event_classifier", n_samples=args.samples, n_trees=args.trees,
                                         seed=args.seed)
        trained_s = time.perf_counter() - started
        model = ServedClassifier.load(download_bundle(uri, "event_classifier", ref.version, root / "cache"),
                                      name="event_classifier", version=ref.version)
        report = realistic_metrics(model, rows)
        events = [parse_event(r) for r in rows]
        probs = model.predict_proba(events)
        classes = list(model.classes)
        y = np.asarray([classes.index(r["category"]) for r in rows])
        pred = probs.argmax(axis=1)
        confusion = np.zeros((len(classes), len(classes)), dtype=int)
        for t, p in zip(y, pred):
            confusion[t, p] += 1
        wrong = [i for i in np.argsort(-probs.max(axis=1)) if pred[i] != y[i]][:10]
        report["confusion"] = {"rows_true_cols_predicted": classes, "matrix": confusion.tolist()}
        report["most_confident_errors"] = [
            {"title": rows[i]["title"], "lang": rows[i]["lang"], "true": classes[y[i]], "predicted": classes[pred[i]],
             "confidence": round(float(probs[i].max()), 3)} for i in wrong]
        report["trained_seconds"] = round(trained_s, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"frozen realistic test set: {report['rows']} events; model trained in {report['trained_seconds']} s")
    print(f"accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}  ECE {report['ece']:.3f}  "
          f"wrong at >=0.95: {100 * report['confident_error_share']:.1f} %")
    print("per language: " + ", ".join(f"{k} acc {v['accuracy']:.3f} F1 {v['macro_f1']:.3f} (n={v['rows']})"
                                       for k, v in report["per_language"].items()))
    print("per class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in report["per_class_f1"].items()))
    if "priority_accuracy" in report:
        print(f"priority accuracy {report['priority_accuracy']:.3f}  macro-F1 {report['priority_macro_f1']:.3f}")
    print("confusion (rows true, columns predicted): " + " ".join(c[:4] for c in classes))
    for c, line in zip(classes, report["confusion"]["matrix"]):
        print(f"  {c:9s} " + " ".join(f"{n:4d}" for n in line))
    print("ten most confident errors:")
    for e in report["most_confident_errors"]:
        print(f"  {e['confidence']:.3f} {e['true']:>8s} -> {e['predicted']:8s} [{e['lang']}] {e['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
