"""Where a 1000-event batch's time goes, stage by stage, in one process (issue 13's batch target).

Times each stage of POST /v2/classify-events with 1000 generated events as the API and the inference worker run it,
without HTTP, Celery or Redis round trips (those are in bench_serving.py's batch row): the API's body parse and
event validation and the task message's JSON; the worker's argument decode, its own event handling, the model
(split into text, numeric features, stage 2, priority, tags, result dicts), the result's JSON; and the bookkeeping
after success (metrics, prediction-log records, the prediction log and feedback cache writes: sent to ``--redis-url``
when given, else only built). Prints the p50 of ``--repeat`` runs in ms per 1000 events.

Usage: python bench/profile_batch.py [--bundle DIR] [--samples 12000] [--trees 120] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import load_line  # noqa: E402
from geulpi_tasks.data.generator import generate_events  # noqa: E402


def bundle_dir(samples: int, trees: int) -> Path:
    """A production model trained as bench_serving trains it, cached under the temp folder between runs."""
    from geulpi_tasks.registry.store import download_bundle
    from geulpi_tasks.training.bootstrap import ensure_production_model

    root = Path(tempfile.gettempdir()) / f"geulpi-profile-batch-{samples}-{trees}"
    root.mkdir(exist_ok=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    ref, _ = ensure_production_model(tracking_uri=uri, artifact_root=root / "artifacts", model_name="event_classifier",
                                     n_samples=samples, n_trees=trees, seed=7)
    return download_bundle(uri, "event_classifier", ref.version, root / "cache")


class _Pipe:
    """Counts the commands a real pipeline would send."""

    def __init__(self) -> None:
        self.commands = 0

    def pipeline(self, transaction: bool = False) -> "_Pipe":
        return self

    def execute(self) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Callable[..., "_Pipe"]:
        def command(*_: Any, **__: Any) -> "_Pipe":
            self.commands += 1
            return self
        return command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--trees", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--redis-url", default=None, help="send the side writes to this Redis (keys under "
                        "geulpi-profile:, deleted at the end); without it they are built but not sent")
    args = parser.parse_args()

    from api.task_repr import args_repr
    from geulpi_tasks import fast_json
    from geulpi_tasks.features.event_features import EventTexts, numeric_features
    from geulpi_tasks.feedback import remember_classified
    from geulpi_tasks.inference.classification import classify_events
    from geulpi_tasks.json_documents import parse_json_document
    from geulpi_tasks.models.runtime import ServedClassifier
    from geulpi_tasks.monitoring.metrics import instruments
    from geulpi_tasks.monitoring.prediction_log import record_predictions
    from geulpi_tasks.process_heap import settle_heap
    from geulpi_tasks.schemas import events_to_wire, parse_events
    from workers import json_serializer as wire_json
    from workers import metrics_signals

    client: Any = redis.Redis.from_url(args.redis_url) if args.redis_url else _Pipe()
    bundle = args.bundle or bundle_dir(args.samples, args.trees)
    model = ServedClassifier.load(bundle, name="event_classifier", version="1")
    settle_heap()  # as the worker's ModelProvider does after a load
    raw = [{k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}
           for e in generate_events(1000, seed=99)]
    body = json.dumps({"events": raw}).encode()

    timings: dict[str, list[float]] = {}

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        # CPU time of this thread: on a shared, loaded machine wall time mostly measures the neighbours.
        t0 = time.thread_time()
        out = fn()
        timings.setdefault(name, []).append((time.thread_time() - t0) * 1000.0)
        return out

    def one_round() -> None:
        # ---- API
        doc = stage("api: parse JSON body", lambda: parse_json_document(body))
        events = stage("api: parse_events", lambda: parse_events(doc["events"], max_count=1000))
        wire = stage("api: events_to_wire", lambda: events_to_wire(events))
        message = stage("api: task message JSON encode", lambda: wire_json.dumps([[wire], {}, {}]))
        stage("api: task argsrepr (redacted)", lambda: args_repr([wire], secret=b"profile-secret"))
        # ---- worker
        decoded = stage("worker: task message JSON decode", lambda: wire_json.loads(message)[0][0])
        parsed = stage("worker: parse_events", lambda: parse_events(decoded, max_count=1000))
        stage("  model: normalised texts", lambda: EventTexts(parsed).model())
        stage("  model: numeric_features", lambda: numeric_features(parsed))
        stage("  model: predict_with_priority", lambda: model.predict_with_priority(parsed))
        results = stage("worker: classify_events (all)",
                        lambda: classify_events(model, parsed, review_threshold=0.7))
        for i, r in enumerate(results):
            r["requestId"] = f"task:{i}"
        reply = {"results": results, "count": len(results), "modelName": "event_classifier", "modelVersion": "1",
                 "latencyMs": 1.0}
        stored = stage("worker: result JSON encode", lambda: wire_json.dumps({"status": "SUCCESS", "result": reply}))
        records = stage("worker: prediction records", lambda: metrics_signals._prediction_records(
            "geulpi.inference.classify_events", [decoded], reply))

        def metrics() -> None:  # as workers/metrics_signals._on_success counts them
            tools = instruments()
            for (version, status), count in Counter((r.model_version, r.status) for r in records).items():
                tools.predictions.labels("event_classifier", version, status).inc(count)
            duration = tools.prediction_duration.labels("event_classifier", "model")
            for record in records:
                if record.latency_ms is not None:
                    duration.observe(record.latency_ms / 1000.0)

        stage("worker: metrics", metrics)
        stage("worker: prediction log write", lambda: record_predictions(
            client, "geulpi-profile", "event_classifier", records, max_len=100000))
        items = [(e, a, a["requestId"]) for e, a in zip(decoded, results)]
        stage("worker: feedback cache write", lambda: remember_classified(client, "geulpi-profile", items, ttl_s=60,
                                                                          group_id="task", model_name="m"))
        # ---- API again
        answer = stage("api: result JSON decode", lambda: wire_json.loads(stored)["result"])
        stage("api: response JSON encode", lambda: fast_json.dumps(answer))


    for rnd in range(args.repeat + 2):
        one_round()
        if rnd < 2:  # warm-up rounds
            timings.clear()

    if args.redis_url:
        for key in client.scan_iter("geulpi-profile:*", count=1000):
            client.delete(key)
    print(f"CPU ms per 1000 events, p50 of {args.repeat}; {load_line()}")
    for name, values in timings.items():
        print(f"{name:40s} {statistics.median(values):8.2f}")


if __name__ == "__main__":
    main()
