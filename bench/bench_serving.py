"""Serving benchmark for the spine (issue 2). One run, one machine, everything real:

(a) Celery no-op task round trip on the same broker and inference worker;
(b) POST /v2/classify-event end to end over HTTP (gunicorn → Redis → inference worker → back);
(c) naive baseline: a Flask view calling the scikit-learn model's predict_proba in-process, over HTTP with the
    same gunicorn settings;
(d) batch throughput of POST /v2/classify-events with 1000 events.
Also the model alone: one event through the served (ONNX) path and through scikit-learn.

Usage: python bench/bench_serving.py [--requests 400] [--samples 12000] [--trees 120]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.data.generator import generate_events  # noqa: E402
from geulpi_tasks.registry.store import download_bundle  # noqa: E402
from geulpi_tasks.settings import Settings  # noqa: E402
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server  # noqa: E402
from geulpi_tasks.training.bootstrap import ensure_production_model  # noqa: E402
from workers.celery_app import create_celery  # noqa: E402
from workers.task_names import CLASSIFY_EVENT, INFERENCE_PING  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed(fn, n: int, warmup: int = 30) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


class JsonClient:
    """Keep-alive HTTP/1.1 JSON client on http.client: requests adds ~1 ms per call of client-side overhead,
    which would be measured as server time. Both HTTP rows use this same client."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: object) -> object:
        payload = json.dumps(body).encode()
        try:
            self.conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()  # the server closed an idle keep-alive connection: reconnect once
            self.conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
            response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {data[:200]!r}")
        return json.loads(data)


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--trees", type=int, default=120)
    parser.add_argument("--http-workers", type=int, default=2)
    parser.add_argument("--http-worker-class", default="gthread", choices=["gthread", "sync"])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="geulpi-bench-"))
    port = free_port()
    redis_proc = start_redis_server(port, tmp / "redis", appendonly=False)
    settings = Settings(data_dir=tmp, redis_url=f"redis://127.0.0.1:{port}/0",
                        mlflow_tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", bootstrap_samples=args.samples,
                        bootstrap_trees=args.trees)
    ref, _ = ensure_production_model(tracking_uri=settings.effective_tracking_uri,
                                     artifact_root=settings.artifact_root, model_name=settings.model_name,
                                     n_samples=args.samples, n_trees=args.trees, seed=settings.seed)
    bundle = download_bundle(settings.effective_tracking_uri, settings.model_name, ref.version, tmp / "cache")
    env = {**__import__("os").environ, **settings.to_env(), "PYTHONPATH": str(ROOT), "NAIVE_BUNDLE_DIR": str(bundle)}
    api_port, naive_port = free_port(), free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    # The same gunicorn settings for both HTTP servers (the launcher's, unless --http-workers says otherwise).
    server = ["-w", str(args.http_workers), "-k", args.http_worker_class, "--threads", "8", "--keep-alive", "30"]
    procs = [
        subprocess.Popen([sys.executable, "-m", "workers.inference", "--concurrency", "2"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([gunicorn, "-b", f"127.0.0.1:{api_port}", *server, "api:wsgi_app()"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([gunicorn, "-b", f"127.0.0.1:{naive_port}", *server, "bench.naive_server:wsgi_app()"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        celery = create_celery(settings)
        api, naive = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{naive_port}"
        wait_http(api + "/openapi.json")
        wait_http(naive + "/nothing")
        deadline = time.monotonic() + 60
        while not requests.get(api + "/health", timeout=30).ok:
            if time.monotonic() > deadline:
                raise RuntimeError("system not healthy")
            time.sleep(0.5)

        events = [{k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}
                  for e in generate_events(2000, seed=99)]
        api_client, naive_client = JsonClient(api_port), JsonClient(naive_port)
        it = iter(range(10**9))

        def noop() -> None:
            celery.send_task(INFERENCE_PING).get(timeout=10)

        def classify_task() -> None:
            celery.send_task(CLASSIFY_EVENT, args=[events[next(it) % len(events)]]).get(timeout=10)

        def classify() -> None:
            api_client.post("/v2/classify-event", events[next(it) % len(events)])

        from api import create_app

        in_process = create_app(settings).test_client()

        def classify_no_server() -> None:
            in_process.post("/v2/classify-event", json=events[next(it) % len(events)])

        def baseline() -> None:
            naive_client.post("/classify-event", events[next(it) % len(events)])

        n = args.requests
        # Interleaved rounds: each round times one call of every kind, so background noise hits all rows alike.
        probes = (noop, classify_task, classify, baseline, classify_no_server)
        for fn in probes:
            for _ in range(30):
                fn()
        a, a2, b, c, b0 = [], [], [], [], []
        for _ in range(n):
            for fn, out in zip(probes, (a, a2, b, c, b0)):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000.0)
        batch = events[:1000]
        d = timed(lambda: api_client.post("/v2/classify-events", {"events": batch}), 10, warmup=2)

        from geulpi_tasks.models.runtime import ServedClassifier, load_reference
        from geulpi_tasks.schemas import parse_event

        served, reference = ServedClassifier.load(bundle, name="x", version="1"), load_reference(bundle)
        parsed = [parse_event(e) for e in events[:300]]
        m_fast = timed(lambda: served.predict_proba([parsed[next(it) % 300]]), 1000, warmup=50)
        m_slow = timed(lambda: reference.predict_proba([parsed[next(it) % 300]]), 100, warmup=5)

        rows = [("(a) celery no-op round trip", a), ("    classify task round trip, no HTTP", a2),
                ("(b) POST /v2/classify-event", b), ("    same through Flask's test client, no HTTP", b0),
                ("(c) naive Flask + sklearn predict_proba", c), ("(d) POST /v2/classify-events x1000", d),
                ("model only: served (ONNX) 1 event", m_fast), ("model only: scikit-learn 1 event", m_slow)]
        print(f"\nmodel version {ref.version}; {n} sequential requests per HTTP row; times in ms")
        print(f"{'measure':45s} {'p50':>9s} {'p99':>9s} {'mean':>9s}")
        for name, values in rows:
            print(f"{name:45s} {pct(values, 50):9.3f} {pct(values, 99):9.3f} {statistics.fmean(values):9.3f}")
        print(f"\nb/a at p50: {pct(b, 50) / pct(a, 50):.2f}   (target <= 1.5)")
        print(f"b p99/p50: {pct(b, 99) / pct(b, 50):.2f}   (target <= 3)")
        print(f"b/c at p50: {pct(b, 50) / pct(c, 50):.2f}   (target < 1: b faster than c)")
        print(f"batch throughput: {1000 / (pct(d, 50) / 1000):.0f} events/s (p50 of {len(d)} batches of 1000)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        stop_redis_server(redis_proc)


if __name__ == "__main__":
    main()
