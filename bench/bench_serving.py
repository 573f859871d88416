"""Serving benchmark (issues 2 and 13). One run, one machine, everything real, the system started exactly as
``scripts/start`` starts it (``workers.launcher.process_table``: API, inference, training and monitoring workers,
Beat, Flower) on a throwaway Redis with AOF, plus two yardsticks on the same Redis server:

(a) a bare Celery no-op task round trip with Celery's default configuration (bench/bare_celery.py, 2 prefork
    children, its own database);
(a') the project's own no-op (inference ping) and classify task round trips, no HTTP;
(b) POST /v2/classify-event end to end over HTTP (gunicorn → Redis → inference worker → back);
(c) naive baseline: a Flask view calling the scikit-learn model's predict_proba in-process, over HTTP with the
    same gunicorn settings;
(d) batch throughput of POST /v2/classify-events with 1000 events (again before each saturation round, per
    ``--inference-variants`` worker, e.g. to compare ``-P prefork`` with the threads pool in one run): one caller's
    p50, then ``--batch-clients`` closed-loop callers for ``--batch-seconds`` each, with the CPU each process spent
    per batch (on a shared machine the CPU per batch moves far less with the neighbours' load than events/s).
Also the model alone: one event through the served (ONNX) path and through scikit-learn.

Sequential rows are interleaved (one call of each kind per round). The saturation section then runs 1, 8 and 32
closed-loop keep-alive clients for ``--sat-seconds`` against (a) and (b), alternating a and b per client count,
``--sat-rounds`` times, and prints req/s, p50, p99, errors, CPU ms per request of every process, the ratios, and
how many single classifications shared a task message (api/coalescer.py).
``--lost-seconds`` (60 for the issue's check) runs 32 clients during an A/B experiment and checks that every
answered request is in ml_predictions_total, the prediction log and the experiment's exposure counts.

Usage: python bench/bench_serving.py [--requests 400] [--samples 12000] [--trees 120] [--sat-seconds 10]
                                     [--sat-rounds 1] [--lost-seconds 0] [--profile-dir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._load import LoadResult, saturate  # noqa: E402
from bench._stack import load_line  # noqa: E402
from geulpi_tasks.data.generator import generate_events  # noqa: E402
from geulpi_tasks.registry.store import download_bundle  # noqa: E402
from geulpi_tasks.settings import Settings  # noqa: E402
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server  # noqa: E402
from geulpi_tasks.training.bootstrap import ensure_production_model  # noqa: E402
from workers.celery_app import create_celery  # noqa: E402
from workers.launcher import process_table  # noqa: E402
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT, INFERENCE_PING  # noqa: E402


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


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User+system CPU seconds of each role's process tree (main process and its children) so far."""
    import psutil

    out: dict[str, float] = {}
    for role, pid in pids.items():
        total = 0.0
        try:
            main = psutil.Process(pid)
            for proc in [main, *main.children(recursive=True)]:
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.NoSuchProcess:
                    continue
        except psutil.NoSuchProcess:
            continue
        out[role] = total
    return out


PROFILED = ("api", "inference", "flower")


def run_load(kind: str, target: dict[str, Any], clients: int, seconds: float, pids: dict[str, int],
             profile_dir: Path | None = None, label: str = "") -> tuple[LoadResult, dict[str, float]]:
    """One saturation run, with the CPU each process (and the clients) spent per answered request in ms.
    With ``profile_dir``: py-spy flame graphs (on-CPU samples, child processes included) of the API, the inference
    worker and Flower for the timed part of the run."""
    spies = []
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        py_spy = str(Path(sys.executable).parent / "py-spy")
        spies = [subprocess.Popen([py_spy, "record", "--nonblocking", "--subprocesses", "-r", "100", "-d",
                                   str(int(seconds)), "-p", str(pids[role]), "-o",
                                   str(profile_dir / f"{label}-{role}.svg")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for role in PROFILED if role in pids]
    before = cpu_seconds(pids)
    result = saturate(kind, target, clients, seconds)
    after = cpu_seconds(pids)
    for spy in spies:
        spy.wait(timeout=60)
    n = max(result.answered, 1)
    cpu = {role: (after.get(role, 0.0) - before.get(role, 0.0)) * 1000.0 / n for role in pids}
    cpu["clients"] = result.client_cpu_s * 1000.0 / n
    return result, cpu


def metric_sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--trees", type=int, default=120)
    parser.add_argument("--sat-seconds", type=float, default=10.0)
    parser.add_argument("--sat-rounds", type=int, default=1)
    parser.add_argument("--sat-clients", default="1,8,32")
    parser.add_argument("--lost-seconds", type=float, default=0.0, help="32 clients during an A/B experiment")
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--batch-clients", default="1,4",
                        help="closed-loop clients sending 1000-event batches, per inference variant and round")
    parser.add_argument("--batch-seconds", type=float, default=10.0)
    parser.add_argument("--sat-kinds", default="ab", help="a: bare Celery, b: the stack; 'b' alone when profiling")
    parser.add_argument("--profile-dir", type=Path, default=None, help="py-spy flame graphs of every b run here")
    parser.add_argument("--inference-variants", default="",
                        help="'name=extra worker args;name2=...': each saturation round is repeated per variant, the "
                             "inference worker restarted with the launcher's command plus those args (e.g. "
                             "'prefork=-P prefork -c 2;threads=-P threads -c 4')")
    parser.add_argument("--hold", type=float, default=0.0, help="keep the stack up this long at the end (profiling)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="geulpi-bench-"))
    port = free_port()
    # As scripts/start: Redis with its append-only file.
    redis_proc = start_redis_server(port, tmp / "redis", appendonly=True)
    api_key = "bench-" + os.urandom(8).hex()
    settings = Settings(data_dir=tmp, redis_url=f"redis://127.0.0.1:{port}/0",
                        mlflow_tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", bootstrap_samples=args.samples,
                        bootstrap_trees=args.trees, api_port=free_port(), flower_port=free_port(), api_keys=api_key)
    ref, _ = ensure_production_model(tracking_uri=settings.effective_tracking_uri,
                                     artifact_root=settings.artifact_root, model_name=settings.model_name,
                                     n_samples=args.samples, n_trees=args.trees, seed=settings.seed)
    bundle = download_bundle(settings.effective_tracking_uri, settings.model_name, ref.version, tmp / "cache")
    from geulpi_tasks.monitoring.metrics import configure_metrics_dir

    metrics_dir = configure_metrics_dir(settings.effective_metrics_dir, wipe=True)
    bare_url = f"redis://127.0.0.1:{port}/1"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_"))}
    env.update(settings.to_env(), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", NAIVE_BUNDLE_DIR=str(bundle),
               PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), FLOWER_BASIC_AUTH="bench:bench", BARE_CELERY_URL=bare_url)
    table = process_table(settings, sys.executable)
    api_port, naive_port = settings.api_port, free_port()
    naive_cmd = shlex.split(table["api"].replace(f":{api_port} ", f":{naive_port} ").replace(
        "api:wsgi_app()", "bench.naive_server:wsgi_app()"))
    logs = tmp / "logs"
    logs.mkdir()
    commands = {name: shlex.split(cmd) for name, cmd in table.items()}
    commands["naive"] = naive_cmd
    commands["bare"] = [str(Path(sys.executable).parent / "celery"), "-A", "bench.bare_celery", "worker",
                        "-c", "2", "-n", "bare@%h"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, argv in commands.items():
        proc_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"} if name in (
            "flower", "bare") else env
        procs[name] = subprocess.Popen(argv, cwd=ROOT, env=proc_env, stdout=open(logs / f"{name}.log", "ab"),
                                       stderr=subprocess.STDOUT, start_new_session=True)
    pids = {name: p.pid for name, p in procs.items()}
    pids["redis"] = redis_proc.pid
    print(f"stack: {tmp}; pids {pids}", flush=True)
    try:
        celery = create_celery(settings)
        api, naive = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{naive_port}"
        wait_http(api + "/openapi.json")
        wait_http(naive + "/nothing")
        deadline = time.monotonic() + 90
        while not requests.get(api + "/health", timeout=30).ok:
            if time.monotonic() > deadline:
                raise RuntimeError("system not healthy")
            time.sleep(0.5)
        os.environ["BARE_CELERY_URL"] = bare_url
        from bench.bare_celery import noop as bare_noop

        bare_noop.delay().get(timeout=60)

        events = [{k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}
                  for e in generate_events(2000, seed=99)]
        api_client, naive_client = JsonClient(api_port), JsonClient(naive_port)
        it = iter(range(10**9))

        def bare() -> None:
            bare_noop.delay().get(timeout=10)

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
        rows: list[tuple[str, list[float]]] = []
        aa: list[float] = []
        b: list[float] = []
        if not args.skip_sequential:
            # Interleaved rounds: each round times one call of every kind, so background noise hits all rows alike.
            probes = (bare, noop, classify_task, classify, baseline, classify_no_server)
            for fn in probes:
                for _ in range(30):
                    fn()
            a: list[float] = []
            a2: list[float] = []
            c: list[float] = []
            b0: list[float] = []
            for _ in range(n):
                for fn, out in zip(probes, (aa, a, a2, b, c, b0)):
                    t0 = time.perf_counter()
                    fn()
                    out.append((time.perf_counter() - t0) * 1000.0)
            batch = events[:1000]
            d = timed(lambda: api_client.post("/v2/classify-events", {"events": batch}), 20, warmup=3)

            from geulpi_tasks.models.runtime import ServedClassifier, load_reference
            from geulpi_tasks.schemas import parse_event

            served, reference = ServedClassifier.load(bundle, name="x", version="1"), load_reference(bundle)
            parsed = [parse_event(e) for e in events[:300]]
            m_fast = timed(lambda: served.predict_proba([parsed[next(it) % 300]]), 1000, warmup=50)
            m_slow = timed(lambda: reference.predict_proba([parsed[next(it) % 300]]), 100, warmup=5)

            rows = [("(a) bare Celery no-op, default config", aa), ("(a') project no-op (inference ping)", a),
                    ("    classify task round trip, no HTTP", a2),
                    ("(b) POST /v2/classify-event", b), ("    same through Flask's test client, no HTTP", b0),
                    ("(c) naive Flask + sklearn predict_proba", c), ("(d) POST /v2/classify-events x1000", d),
                    ("model only: served (ONNX) 1 event", m_fast), ("model only: scikit-learn 1 event", m_slow)]
            print(f"\nmodel version {ref.version}; {n} sequential requests per HTTP row; times in ms; {load_line()}")
            print(f"{'measure':45s} {'p50':>9s} {'p99':>9s} {'mean':>9s}")
            for name, values in rows:
                print(f"{name:45s} {pct(values, 50):9.3f} {pct(values, 99):9.3f} {statistics.fmean(values):9.3f}")
            print(f"\nb/a at p50: {pct(b, 50) / pct(aa, 50):.2f}   (target <= 1.2; vs project no-op a': "
                  f"{pct(b, 50) / pct(a, 50):.2f})")
            print(f"b p99/p50 sequential: {pct(b, 99) / pct(b, 50):.2f}")
            print(f"b/c at p50: {pct(b, 50) / pct(c, 50):.2f}   (b faster than c when < 1)")
            print(f"batch throughput: {1000 / (pct(d, 50) / 1000):.0f} events/s (p50 of {len(d)} batches of 1000; "
                  "target >= 20000)", flush=True)

        # ------------------------------------------------------------------------------------ saturation
        bare_target = {"url": bare_url, "timeout": 30}
        http_target = {"port": api_port, "path": "/v2/classify-event", "bodies": events[:500], "timeout": 60}
        server_pids = {k: v for k, v in pids.items() if k != "naive"}
        clients_list = [int(x) for x in args.sat_clients.split(",") if x]
        table_rows: list[tuple[int, int, LoadResult, LoadResult, dict[str, float], dict[str, float], str]] = []
        variants = [v.split("=", 1) for v in args.inference_variants.split(";") if v.strip()] or [["", ""]]
        batch_rates: list[tuple[int, str, float]] = []
        batch_loads: list[tuple[int, str, LoadResult, dict[str, float]]] = []
        batch_target = {"port": api_port, "path": "/v2/classify-events", "bodies": [{"events": events[:1000]}],
                        "timeout": 60}
        sharing: dict[tuple[int, int, str], dict[str, float]] = {}
        for rnd in range(args.sat_rounds):
            for variant, extra in variants:
                if variant:
                    restart_inference(procs, commands["inference"] + shlex.split(extra), env, logs, api)
                    server_pids["inference"] = procs["inference"].pid
                    print(f"  variant {variant}: inference worker {' '.join(shlex.split(extra))}", flush=True)
                batch_rates.append((rnd, variant or "default", batch_throughput(api_port, events[:1000])))
                print(f"  {variant or 'default'} round {rnd}: batch {batch_rates[-1][2]:.0f} events/s "
                      f"({load_line()})", flush=True)
                for clients in [int(x) for x in args.batch_clients.split(",") if x]:
                    result, cpu = run_load("http", batch_target, clients, args.batch_seconds, server_pids)
                    batch_loads.append((rnd, variant or "default", result, cpu))
                    print(f"  {variant or 'default'} round {rnd}: {clients} batch clients "
                          f"{result.rps * 1000:.0f} events/s ({load_line()})", flush=True)
                for clients in clients_list:
                    empty: tuple[LoadResult, dict[str, float]] = (LoadResult(clients, args.sat_seconds), {})
                    ra, ca = (run_load("celery", bare_target, clients, args.sat_seconds, server_pids)
                              if "a" in args.sat_kinds else empty)
                    shares_before = task_shares(api)
                    rb, cb = (run_load("http", http_target, clients, args.sat_seconds, server_pids,
                                       args.profile_dir, f"{variant or 'r'}{rnd}-c{clients}")
                              if "b" in args.sat_kinds else empty)
                    sharing[(rnd, clients, variant)] = {k: v - shares_before.get(k, 0.0)
                                                        for k, v in task_shares(api).items()}
                    table_rows.append((rnd, clients, ra, rb, ca, cb, variant))
                    print(f"  {variant} round {rnd} clients {clients:2d}: a {ra.rps:6.1f} req/s p50 "
                          f"{ra.pct(50):7.2f}  b {rb.rps:6.1f} req/s p50 {rb.pct(50):7.2f}  ({load_line()})",
                          flush=True)
        print(f"\nsaturation: closed-loop keep-alive clients, {args.sat_seconds:g} s each (after 1 s warm-up), "
              "a and b alternating; ms")
        print(f"{'variant':>8s} {'round':>5s} {'clients':>7s} | {'a req/s':>8s} {'a p50':>7s} {'a p99':>7s} "
              f"{'a err':>5s} | {'b req/s':>8s} {'b p50':>7s} {'b p99':>7s} {'b err':>5s} | {'b/a rps':>7s} "
              f"{'b/a p50':>7s} {'b p99/p50':>9s}")
        for rnd, clients, ra, rb, _, _, variant in table_rows:
            print(f"{variant:>8s} {rnd:5d} {clients:7d} | {ra.rps:8.1f} {ra.pct(50):7.2f} {ra.pct(99):7.2f} "
                  f"{ra.error_count:5d} | {rb.rps:8.1f} {rb.pct(50):7.2f} {rb.pct(99):7.2f} {rb.error_count:5d} | "
                  f"{rb.rps / max(ra.rps, 1e-9):7.2f} {rb.pct(50) / ra.pct(50):7.2f} {rb.pct(99) / rb.pct(50):9.2f}")
        print("\nb: single classifications per task message (api/coalescer.py; from the workers' task metrics)")
        for (rnd, clients, variant), d in sharing.items():
            alone, groups, grouped = d.get("alone", 0.0), d.get("groups", 0.0), d.get("grouped", 0.0)
            messages = alone + groups
            print(f"{variant:>8s} {rnd:5d} {clients:7d}   {(alone + grouped) / max(messages, 1):5.2f} events/message "
                  f"({alone:.0f} alone, {groups:.0f} coalesced messages of {grouped / max(groups, 1):.2f} on average)")
        print("\nbatch: POST /v2/classify-events with 1000 events, p50 of 10 (after 2 warm-up), per inference variant")
        for rnd, variant, rate in batch_rates:
            print(f"{variant:>8s} {rnd:5d}   {rate:8.0f} events/s   (target >= 20000)")
        if batch_loads:
            print(f"\nbatch saturation: closed-loop keep-alive clients each sending 1000-event batches, "
                  f"{args.batch_seconds:g} s; CPU ms per batch of the inference worker, API, Redis and clients")
            print(f"{'variant':>8s} {'round':>5s} {'clients':>7s} | {'events/s':>9s} {'p50 ms':>7s} {'p99 ms':>7s} "
                  f"{'err':>4s} | {'inference':>9s} {'api':>7s} {'redis':>7s} {'clients':>7s}")
            for rnd, variant, result, cpu in batch_loads:
                print(f"{variant:>8s} {rnd:5d} {result.clients:7d} | {result.rps * 1000:9.0f} {result.pct(50):7.1f} "
                      f"{result.pct(99):7.1f} {result.error_count:4d} | {cpu.get('inference', 0.0):9.1f} "
                      f"{cpu.get('api', 0.0):7.1f} {cpu.get('redis', 0.0):7.1f} {cpu.get('clients', 0.0):7.1f}")
        roles = [*server_pids, "clients"]
        print("\nCPU ms per answered request, per process tree (a: bare worker + redis + clients matter)")
        print(f"{'variant':>8s} {'round':>5s} {'clients':>7s} {'kind':>4s} " + " ".join(f"{r[:9]:>9s}" for r in roles)
              + f" {'total':>9s}")
        for rnd, clients, _, _, ca, cb, variant in table_rows:
            for kind, cpu in (("a", ca), ("b", cb)):
                print(f"{variant:>8s} {rnd:5d} {clients:7d} {kind:>4s} "
                      + " ".join(f"{cpu.get(r, 0.0):9.2f}" for r in roles) + f" {sum(cpu.values()):9.2f}")
        for rnd, clients, ra, rb, _, _, _ in table_rows:
            if rb.errors or ra.errors:
                print(f"errors round {rnd} clients {clients}: a {ra.errors} b {rb.errors}")

        if args.lost_seconds > 0:
            check_nothing_lost(api, api_key, settings, events, api_port, args.lost_seconds, server_pids, tmp)
        if args.hold > 0:
            print(f"holding the stack {args.hold:g} s", flush=True)
            time.sleep(args.hold)
    finally:
        for p in procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, 15)
                except ProcessLookupError:
                    pass
        for p in procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
        stop_redis_server(redis_proc)


def batch_throughput(port: int, batch: list[dict[str, Any]], n: int = 10) -> float:
    """Events/s of POST /v2/classify-events with ``batch``, end to end over HTTP (p50 of ``n`` calls)."""
    client = JsonClient(port)
    times = timed(lambda: client.post("/v2/classify-events", {"events": batch}), n, warmup=2)
    return len(batch) / (pct(times, 50) / 1000.0)


def task_shares(api: str) -> dict[str, float]:
    """Classify task runs and events so far, from the workers' metrics: alone (classify_event), coalesced messages
    (classify_coalesced) and the events they carried."""
    text = requests.get(api + "/monitoring/metrics", timeout=30).text
    return {"alone": metric_sum(text, "geulpi_task_runs_total", task_name=CLASSIFY_EVENT),
            "groups": metric_sum(text, "geulpi_task_runs_total", task_name=CLASSIFY_COALESCED),
            "grouped": metric_sum(text, "geulpi_task_items_total", task_name=CLASSIFY_COALESCED)}


def restart_inference(procs: dict[str, subprocess.Popen[bytes]], argv: list[str], env: dict[str, str], logs: Path,
                      api: str) -> None:
    """Stop the inference worker (its whole process group) and start it again with ``argv``; wait until healthy."""
    old = procs["inference"]
    if old.poll() is None:
        os.killpg(old.pid, 15)
        try:
            old.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(old.pid, 9)
            old.wait()
    procs["inference"] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(logs / "inference.log", "ab"),
                                          stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    time.sleep(2)
    while not requests.get(api + "/health", timeout=30).ok:
        if time.monotonic() > deadline:
            raise RuntimeError("inference worker not healthy after restart")
        time.sleep(0.5)
    requests.post(api + "/v2/classify-event", json={"title": "warm up", "startTime": "2024-01-20T09:00:00",
                                                     "endTime": "2024-01-20T09:30:00"}, timeout=30)


def register_challenger(settings: Settings) -> str:
    from geulpi_tasks.data.generator import split_events
    from geulpi_tasks.models.event_classifier import ForestParams, train_event_classifier
    from geulpi_tasks.models.runtime import save_bundle
    from geulpi_tasks.registry.store import register_bundle

    train, val, test = split_events(generate_events(2500, seed=11), seed=11)
    model = train_event_classifier(train, val, test, seed=11, forest=ForestParams(n_estimators=30))
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_bundle(model, Path(tmp) / "bundle", extra_meta={"semver": "1.1.0"})
        metrics = {k: v for k, v in model.metrics.items() if isinstance(v, (int, float))}
        ref = register_bundle(bundle, tracking_uri=settings.effective_tracking_uri,
                              artifact_root=settings.artifact_root, name=settings.model_name,
                              description="A/B challenger registered by bench_serving.", semver="1.1.0",
                              params=model.params, metrics=metrics, run_tags={"geulpi.trigger": "bench"},
                              json_artifacts={"metrics.json": model.metrics})
    return str(ref.version)


def check_nothing_lost(api: str, api_key: str, settings: Settings, events: list[dict[str, Any]], api_port: int,
                       seconds: float, pids: dict[str, int], tmp: Path) -> None:
    """32 clients during an A/B experiment: every answered request must be counted in ml_predictions_total, in the
    prediction log and in the experiment's exposures (the side writes happen after the answer, so wait for them)."""
    import redis

    from geulpi_tasks.experiments.store import experiment_key
    from geulpi_tasks.monitoring.prediction_log import logged_predictions

    headers = {"Authorization": f"Bearer {api_key}"}
    challenger = register_challenger(settings)
    created = requests.post(api + "/experiments/create", headers=headers, timeout=30, json={
        "name": "bench", "description": "nothing lost", "model_type": settings.model_name,
        "variants": [{"name": "control", "version": "1", "traffic_percentage": 50},
                     {"name": "treatment", "version": challenger, "traffic_percentage": 50}],
        "duration_hours": 24, "success_metrics": {"success_rate": {"threshold": 0.95, "weight": 1.0}}})
    created.raise_for_status()
    experiment_id = created.json()["experiment_id"]
    time.sleep(3)  # past every worker's experiment cache
    client = redis.Redis.from_url(settings.redis_url)

    def counts() -> tuple[float, int, int]:
        text = requests.get(api + "/monitoring/metrics", timeout=30).text
        predicted = metric_sum(text, "ml_predictions_total", status="success")
        exposures = sum(int(client.hget(experiment_key(settings.key_prefix, "counts", experiment_id, v),
                                        "exposures") or 0) for v in ("control", "treatment"))
        return predicted, logged_predictions(client, settings.key_prefix, settings.model_name), exposures

    before = counts()
    target = {"port": api_port, "path": "/v2/classify-event",
              "bodies": [{**e, "userId": f"user-{i % 997}"} for i, e in enumerate(events[:500])], "timeout": 60}
    result, cpu = run_load("http", target, 32, seconds, pids)
    deadline = time.monotonic() + 30
    after = counts()
    while time.monotonic() < deadline and any(x - y != result.answered for x, y in zip(after, before)):
        time.sleep(0.5)
        after = counts()
    deltas = [x - y for x, y in zip(after, before)]
    print(f"\nnothing lost: 32 clients {seconds:g} s during experiment {experiment_id}: answered {result.answered}, "
          f"errors {result.errors or 0}; {result.rps:.1f} req/s p50 {result.pct(50):.2f} p99 {result.pct(99):.2f} ms")
    print(f"  counted: ml_predictions_total +{deltas[0]:.0f}, prediction log +{deltas[1]}, exposures +{deltas[2]}"
          f"  -> {'MATCH' if all(d == result.answered for d in deltas) and not result.errors else 'MISMATCH'}")
    requests.post(api + f"/experiments/{experiment_id}/stop", headers=headers, timeout=30)


if __name__ == "__main__":
    main()
