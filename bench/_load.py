"""Closed-loop load for bench/bench_serving.py: N keep-alive clients for a fixed time, each sending its next call as
soon as the last one was answered.

Clients are threads spread over a few client processes (``python -m bench._load``, nothing shared with the
caller), because one Python process on 2 cores would measure its own GIL. Every process waits for one common start
time; calls finished in the first ``warmup_s`` are not timed (connections, first subscriptions) but are counted as
answered, so a caller
can compare every answered request with the server's own counts.

Two kinds of client, the same loop:
- ``celery``: the bare app of bench/bare_celery.py, ``noop.delay().get()`` (Celery's default client path);
- ``http``: http.client keep-alive POST of a JSON body, 200 expected.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # calls finished inside the timed window
    answered: int = 0  # every successful call, warm-up included
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0  # CPU the client processes spent in the run (not their start-up)

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies_ms), q)) if self.latencies_ms else float("nan")

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _processes_for(clients: int) -> int:
    return 1 if clients <= 1 else (2 if clients <= 8 else 4)


def _client_factory(kind: str, target: dict[str, Any]) -> Any:
    if kind == "celery":
        os.environ["BARE_CELERY_URL"] = target["url"]
        from bench.bare_celery import noop

        def make() -> Any:
            def call(_: int) -> None:
                noop.delay().get(timeout=target.get("timeout", 30))
            return call
        return make

    bodies = [json.dumps(b).encode() for b in target["bodies"]]
    port, path = target["port"], target["path"]

    def make_http() -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=target.get("timeout", 60))
        headers = {"Content-Type": "application/json"}

        def call(i: int) -> None:
            nonlocal conn
            body = bodies[i % len(bodies)]
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=target.get("timeout", 60))
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"http_{response.status}:{data[:120]!r}")
        return call
    return make_http


def _process_main(config: dict[str, Any]) -> dict[str, Any]:
    """One client process: ``config`` from stdin; prints ``ready``, reads the common start time, runs, returns."""
    kind, target, threads, offset = config["kind"], config["target"], config["threads"], config["offset"]
    warmup_s, seconds = config["warmup_s"], config["seconds"]
    make = _client_factory(kind, target)
    calls = [make() for _ in range(threads)]
    pre_answered, pre_errors = 0, 0
    for call in calls:  # one untimed call each: connection set up before the clock starts
        try:
            call(0)
            pre_answered += 1
        except Exception:  # noqa: BLE001 - counted as an error below
            pre_errors += 1
    print("ready", flush=True)
    t0 = float(sys.stdin.readline())
    cpu0 = time.process_time()
    window_start, end = t0 + warmup_s, t0 + warmup_s + seconds
    results: list[tuple[list[float], int, dict[str, int]]] = [([], 0, {}) for _ in range(threads)]

    def loop(k: int) -> None:
        latencies: list[float] = []
        answered = 0
        errors: dict[str, int] = {}
        i = (offset + k) * 7919
        time.sleep(max(0.0, t0 - time.time()))
        while True:
            started = time.time()
            if started >= end:
                break
            i += 1
            try:
                calls[k](i)
            except Exception as err:  # noqa: BLE001 - every failure is counted by kind
                label = str(err).split(":", 1)[0] if str(err).startswith("http_") else type(err).__name__
                errors[label] = errors.get(label, 0) + 1
                continue
            done = time.time()
            answered += 1
            if window_start <= started and done <= end:
                latencies.append((done - started) * 1000.0)
        results[k] = (latencies, answered, errors)

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    merged_errors: dict[str, int] = {"setup": pre_errors} if pre_errors else {}
    for _, _, errors in results:
        for key, value in errors.items():
            merged_errors[key] = merged_errors.get(key, 0) + value
    return {"latencies": [x for r in results for x in r[0]], "answered": pre_answered + sum(r[1] for r in results),
            "errors": merged_errors, "cpu_s": time.process_time() - cpu0}


def saturate(kind: str, target: dict[str, Any], clients: int, seconds: float, warmup_s: float = 1.0) -> LoadResult:
    """Run ``clients`` closed-loop clients for ``warmup_s + seconds``; times the last ``seconds``."""
    n_proc = _processes_for(clients)
    per = [clients // n_proc + (1 if i < clients % n_proc else 0) for i in range(n_proc)]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = []
    for i in range(n_proc):
        proc = subprocess.Popen([sys.executable, "-m", "bench._load"], cwd=root, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({"kind": kind, "target": target, "threads": per[i], "offset": sum(per[:i]),
                                     "warmup_s": warmup_s, "seconds": seconds}) + "\n")
        proc.stdin.flush()
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"load client did not start: {line!r}")
    start_at = time.time() + 0.2
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at!r}\n")
        proc.stdin.flush()
    result = LoadResult(clients=clients, seconds=seconds)
    for proc in procs:
        out, _ = proc.communicate(timeout=warmup_s + seconds + 120)
        data = json.loads(out.strip().splitlines()[-1])
        result.latencies_ms.extend(data["latencies"])
        result.answered += data["answered"]
        result.client_cpu_s += data["cpu_s"]
        for key, value in data["errors"].items():
            result.errors[key] = result.errors.get(key, 0) + value
    return result


if __name__ == "__main__":
    print(json.dumps(_process_main(json.loads(sys.stdin.readline()))), flush=True)
