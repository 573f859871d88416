"""The whole system as real processes for benchmarks and fault drills: a throwaway redis-server (AOF on), MLflow on
SQLite in a temp folder with a trained production model, the API under gunicorn, inference workers and optionally a
training worker, each in its own process group so a drill can kill -9 a worker with all its prefork children.

Also: register a second ("challenger") version for A/B runs, restart Redis on the same port and data folder, and
read every process's RSS.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geulpi_tasks.settings import Settings  # noqa: E402
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server  # noqa: E402


def load_line() -> str:
    """``uptime``'s load averages: the machine is shared, so every figure is printed next to them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


class Stack:
    """Start with ``with Stack(...) as stack:``; everything it started is stopped on exit (by process group)."""

    def __init__(self, *, inference_workers: int = 1, inference_concurrency: int = 2, training_worker: bool = False,
                 samples: int = 4000, trees: int = 40, sync_timeout_s: float = 10.0, api_workers: int = 2,
                 max_training_job_s: int | None = None, workdir: Path | None = None):
        self.tmp = workdir or Path(tempfile.mkdtemp(prefix="geulpi-stack-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis_port = free_port()
        self.redis_dir = self.tmp / "redis"
        self.api_key = secrets.token_urlsafe(24)
        changes: dict[str, Any] = {}
        if max_training_job_s is not None:
            changes["max_training_job_s"] = max_training_job_s
        self.settings = Settings(data_dir=self.tmp, redis_url=f"redis://127.0.0.1:{self.redis_port}/0",
                                 mlflow_tracking_uri=f"sqlite:///{self.tmp / 'mlflow.db'}", bootstrap_samples=samples,
                                 bootstrap_trees=trees, sync_timeout_s=sync_timeout_s, model_poll_interval_s=1.0,
                                 api_keys=self.api_key, **changes)
        self.n_inference, self.inference_concurrency = inference_workers, inference_concurrency
        self.with_training, self.api_workers = training_worker, api_workers
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.redis_proc: subprocess.Popen[bytes] | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[Any] = []

    # --------------------------------------------------------------------------------------------- start/stop
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_"))}
        env.update(self.settings.to_env())
        env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
                   PROMETHEUS_MULTIPROC_DIR=str(self.settings.effective_metrics_dir))
        return env

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")
        self._logs.append(log)
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> None:
        self.redis_proc = start_redis_server(self.redis_port, self.redis_dir, appendonly=True)

    def stop_redis(self) -> None:
        if self.redis_proc is not None:
            stop_redis_server(self.redis_proc)
            self.redis_proc = None

    def start_inference(self, name: str) -> subprocess.Popen[bytes]:
        # /health counts workers whose node name starts with "inference@".
        return self._spawn(name, [sys.executable, "-m", "workers.inference", "-n",
                                  f"inference@{name}-{uuid.uuid4().hex[:6]}", "--concurrency",
                                  str(self.inference_concurrency)])

    def start(self) -> "Stack":
        from geulpi_tasks.training.bootstrap import ensure_production_model

        self.start_redis()
        self.settings.effective_metrics_dir.mkdir(parents=True, exist_ok=True)
        ensure_production_model(tracking_uri=self.settings.effective_tracking_uri,
                                artifact_root=self.settings.artifact_root, model_name=self.settings.model_name,
                                n_samples=self.settings.bootstrap_samples, n_trees=self.settings.bootstrap_trees,
                                seed=self.settings.seed)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self._spawn("api", [gunicorn, "-b", f"127.0.0.1:{self.api_port}", "-w", str(self.api_workers), "-k",
                            "gthread", "--threads", "8", "--keep-alive", "30", "api:wsgi_app()"])
        for i in range(self.n_inference):
            self.start_inference(f"inference{i + 1}")
        if self.with_training:
            self._spawn("training", [sys.executable, "-m", "workers.training", "-n",
                                     f"training@bench-{uuid.uuid4().hex[:6]}"])
        self.wait_healthy(120)
        return self

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until /health answers 200; raises with the last answer otherwise."""
        started = time.monotonic()
        last: Any = None
        while time.monotonic() - started < timeout:
            try:
                answer = requests.get(self.api_url + "/health", timeout=5)
                if answer.status_code == 200:
                    return time.monotonic() - started
                last = answer.text[:500]
            except requests.RequestException as err:
                last = err
            time.sleep(0.3)
        raise RuntimeError(f"system not healthy in {timeout} s: {last}; logs in {self.logs}")

    def kill_group(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (worker main + prefork children) and reap the main process."""
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def close(self) -> None:
        for proc in list(self.procs.values()):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.stop_redis()
        for log in self._logs:
            log.close()

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------------- helpers
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def register_challenger(self, samples: int = 2500, trees: int = 30, seed: int = 11) -> str:
        """Train a second, smaller classifier in this process and register it (not promoted): an A/B challenger."""
        from geulpi_tasks.data.generator import generate_events, split_events
        from geulpi_tasks.models.event_classifier import ForestParams, train_event_classifier
        from geulpi_tasks.models.runtime import save_bundle
        from geulpi_tasks.registry.store import register_bundle

        train, val, test = split_events(generate_events(samples, seed=seed), seed=seed)
        model = train_event_classifier(train, val, test, seed=seed, forest=ForestParams(n_estimators=trees))
        with tempfile.TemporaryDirectory() as tmp:
            bundle = save_bundle(model, Path(tmp) / "bundle", extra_meta={"semver": "1.1.0"})
            metrics = {k: v for k, v in model.metrics.items() if isinstance(v, (int, float))}
            ref = register_bundle(bundle, tracking_uri=self.settings.effective_tracking_uri,
                                  artifact_root=self.settings.artifact_root, name=self.settings.model_name,
                                  description="A/B challenger registered by a bench drill.", semver="1.1.0",
                                  params=model.params, metrics=metrics, run_tags={"geulpi.trigger": "bench"},
                                  json_artifacts={"metrics.json": model.metrics})
        return str(ref.version)

    def process_tree(self) -> dict[str, list[psutil.Process]]:
        """Live processes per role: the main process first, then its children (prefork pool, gunicorn workers)."""
        out: dict[str, list[psutil.Process]] = {}
        roles: dict[str, int] = {name: p.pid for name, p in self.procs.items() if p.poll() is None}
        if self.redis_proc is not None:
            roles["redis"] = self.redis_proc.pid
        for name, pid in roles.items():
            try:
                main = psutil.Process(pid)
                out[name] = [main, *main.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return out

    def rss_mb(self) -> dict[str, float]:
        """RSS in MiB per process, keyed ``role`` for the main process and ``role/child-<pid>`` for its children."""
        out: dict[str, float] = {}
        for role, procs in self.process_tree().items():
            for i, proc in enumerate(procs):
                key = role if i == 0 else f"{role}/child-{proc.pid}"
                try:
                    out[key] = proc.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
        return out


class Background:
    """Runs a Simulation in a thread so a drill can break things while traffic flows; ``join()`` → report."""

    def __init__(self, simulation: Any):
        import threading

        self.simulation = simulation
        self.report: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.report = self.simulation.run()
        except BaseException as err:  # reported by join(), in the drill's thread
            self.error = err

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def sleep_until(self, offset_s: float) -> None:
        time.sleep(max(0.0, offset_s - self.elapsed()))

    def join(self) -> dict[str, Any]:
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def window(report: dict[str, Any], start_s: float, end_s: float) -> dict[str, Any]:
    """Calls started in the whole seconds [floor(start_s), floor(end_s)) of a report's timeline (its rows are whole
    seconds): count, ok, errors by kind, slowest."""
    low, high = math.floor(start_s), math.floor(end_s)
    rows = [r for r in report["timeline"] if low <= r["second"] < high]
    errors: dict[str, int] = {}
    for r in rows:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {"requests": sum(r["requests"] for r in rows), "ok": sum(r["ok"] for r in rows), "errors": errors,
            "max_latency_ms": round(max((r["max_latency_ms"] for r in rows), default=0.0), 1)}


def redis_contents(url: str, top: int = 8) -> dict[str, Any]:
    """Redis's used memory and its keys grouped by family (``geulpi:feedback:recent``, ``celery-task-meta-*``): a
    growing RSS is then visibly data with a TTL or a cap, or not."""
    import re

    import redis

    client = redis.Redis.from_url(url)
    families: dict[str, int] = {}
    for raw in client.scan_iter(count=2000):
        key = raw.decode(errors="replace")
        family = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}.*$", "*", key)  # task ids
        family = ":".join(family.split(":")[:3])
        families[family] = families.get(family, 0) + 1
    memory = client.info("memory")
    return {"used_memory_mb": round(memory["used_memory"] / 2**20, 1), "keys": sum(families.values()),
            "families": dict(sorted(families.items(), key=lambda kv: -kv[1])[:top])}
