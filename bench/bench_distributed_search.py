"""Distributed hyperparameter search benchmark (issue 3): the same training job, the same number of Optuna trials,
run by 1 training worker and then by 2 sharing the study through Optuna's journal storage on Redis.

Everything is real: a private redis-server, MLflow on SQLite in a temp folder, training workers started with the
project's own command (``python -m workers.training``). Each run submits ``geulpi.training.train_model`` with
``parallelism: 2``; with one worker the helper task only starts after the job is done and finds nothing to do.
Prints the search wall time (the part that parallelises) and the whole job's wall time for both runs.

Usage: python bench/bench_distributed_search.py [--trials 16] [--samples 3000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.settings import Settings  # noqa: E402
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server  # noqa: E402
from workers.celery_app import create_celery  # noqa: E402
from workers.task_names import TRAIN_MODEL  # noqa: E402


def start_worker(settings: Settings, log: Path) -> tuple[subprocess.Popen, str]:
    name = f"training@bench-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_"))}
    env.update(settings.to_env(), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "workers.training", "-n", name], cwd=ROOT, env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, name


def wait_ready(celery, names: list[str], timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = celery.control.ping(timeout=0.5, destination=names) or []
        if len(replies) == len(names):
            return
    raise RuntimeError(f"workers {names} not ready in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def run(settings: Settings, n_workers: int, request: dict, logs: Path) -> dict:
    celery = create_celery(settings)
    workers = [start_worker(settings, logs / f"w{n_workers}-{i}.log") for i in range(n_workers)]
    try:
        wait_ready(celery, [name for _, name in workers])
        started = time.perf_counter()
        result = celery.send_task(TRAIN_MODEL, args=[request]).get(timeout=3600)
        total = time.perf_counter() - started
    finally:
        for proc, _ in workers:
            stop(proc)
    counts = result["search"]["trial_counts"]
    return {"workers": n_workers, "search_s": result["search"]["search_wall_seconds"], "job_s": total,
            "finished_trials": counts.get("COMPLETE", 0) + counts.get("PRUNED", 0), "counts": counts,
            "best": result["search"]["best_value"], "version": result["version"],
            "trial_work_s": result["search"]["trial_seconds_total"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        redis_proc = start_redis_server(port, data / "redis", appendonly=False)
        try:
            settings = Settings(data_dir=data, redis_url=f"redis://127.0.0.1:{port}/0",
                                mlflow_tracking_uri=f"sqlite:///{data / 'mlflow.db'}", key_prefix="bench")
            request = {"model_type": "event_classifier", "n_optimization_trials": args.trials,
                       "n_samples": args.samples, "parallelism": 2, "pruner": "none", "auto_promote": False}
            rows = [run(settings, n, {**request, "description": f"bench {n} worker(s)"}, data) for n in (1, 2)]
        finally:
            stop_redis_server(redis_proc)
    print(f"\nDistributed Optuna search: {args.trials} trials, {args.samples} generated events, "
          f"pruner off (every trial runs all 3 folds), {os.cpu_count()} CPUs")
    print(f"{'workers':>8} {'finished trials':>16} {'search wall s':>14} {'sum of trial s':>15} {'whole job s':>12} "
          f"{'best CV acc':>12}")
    for r in rows:
        print(f"{r['workers']:>8} {r['finished_trials']:>16} {r['search_s']:>14.1f} {r['trial_work_s']:>15.1f} "
              f"{r['job_s']:>12.1f} {r['best']:>12.4f}")
    print(f"search speed-up with 2 workers: {rows[0]['search_s'] / rows[1]['search_s']:.2f}x wall; "
          "the sampler proposes different trials in each run, so compare the sum of trial seconds too")


if __name__ == "__main__":
    main()
