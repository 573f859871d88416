"""Fault drill (issue 7): stop Redis (the stack's own throwaway server) for 10 s under load, then start it again on
the same port and data folder (AOF on). Nothing else is restarted.

Checks and figures: the API answers 503 meanwhile (counted; none hangs: slowest call printed), it recovers by itself
(seconds from Redis's return to the first good call and to /health 200), a training job accepted just before the
outage finishes exactly once after it (one new version carrying its job id), a stopped A/B experiment's recorded
results are identical before and after, and a running experiment's counters lost nothing.

Usage: python bench/fault_redis_outage.py [--rate 20] [--outage 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Background, Stack, load_line, window  # noqa: E402
from geulpi_tasks.registry.store import client_for  # noqa: E402
from geulpi_tasks.tools.simulation.plan import TrafficConfig  # noqa: E402
from geulpi_tasks.tools.simulation.runner import RunOptions, Simulation  # noqa: E402

JOB_TAG = "geulpi.job_id"


def api(stack: Stack, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202)) -> Any:
    answer = requests.request(method, stack.api_url + path, json=body, headers=stack.headers(), timeout=30)
    if answer.status_code not in ok:
        raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


def create_experiment(stack: Stack, name: str, control: str, challenger: str) -> str:
    body = {"name": name, "model_type": stack.settings.model_name, "duration_hours": 24,
            "variants": [{"name": "control", "version": control, "traffic_percentage": 50},
                         {"name": "challenger", "version": challenger, "traffic_percentage": 50}]}
    return str(api(stack, "POST", "/experiments/create", body)["experiment_id"])


def exposures(results: dict[str, Any]) -> dict[str, int]:
    return {name: row["exposures"] for name, row in results["variants"].items()}


def job_versions(stack: Stack, job_id: str) -> list[str]:
    client = client_for(stack.settings.effective_tracking_uri)
    return [str(mv.version) for mv in client.search_model_versions(f"name = '{stack.settings.model_name}'")
            if (mv.tags or {}).get(JOB_TAG) == job_id]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--stop-at", type=float, default=15.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--job-timeout", type=float, default=600.0)
    args = parser.parse_args()
    lines: list[str] = []
    checks: dict[str, bool] = {}

    with Stack(inference_workers=1, training_worker=True) as stack:
        print(f"stack up: API {stack.api_url}, logs {stack.logs}; {load_line()}", flush=True)
        challenger = stack.register_challenger()
        print(f"challenger version {challenger} registered", flush=True)
        # Enough threads that calls waiting out a timeout never hold back the planned ones (20/s x 10 s).
        options = RunOptions(base_url=stack.api_url, api_key=stack.api_key, progress=False, concurrency=256,
                             timeout_s=30)

        # A finished experiment: its final results are stored in Redis and must survive the outage unchanged.
        done_id = create_experiment(stack, "before the outage", "1", challenger)
        warm = Simulation(TrafficConfig(rate=args.rate, duration_s=10, seed=1), options).run()
        lines.append(f"warm-up with the first experiment: {warm['requests']} calls, errors {warm['errors']['byKind']}")
        final_before = api(stack, "POST", f"/experiments/{done_id}/stop")
        running_id = create_experiment(stack, "through the outage", "1", challenger)

        run = Background(Simulation(TrafficConfig(rate=args.rate, duration_s=args.duration, seed=2), options))
        run.sleep_until(args.stop_at - 2)
        job = api(stack, "POST", "/models/train", {
            "model_type": stack.settings.model_name, "optimize": True, "n_optimization_trials": 3, "n_samples": 2000,
            "auto_promote": False, "description": "accepted just before the Redis outage"})
        job_id = job["jobId"]
        versions_before = job_versions(stack, job_id)
        running_before = exposures(api(stack, "GET", f"/experiments/{running_id}/results"))
        run.sleep_until(args.stop_at)
        stopped_at = run.elapsed()
        stack.stop_redis()
        t_stop = time.monotonic()
        during_health = requests.get(stack.api_url + "/health", timeout=30)
        health_down_ms = (time.monotonic() - t_stop) * 1000
        run.sleep_until(stopped_at + args.outage)
        back_at = run.elapsed()
        stack.start_redis()
        healthy_after_s = stack.wait_healthy(120)
        report = run.join()
        (stack.tmp / "redis_outage_report.json").write_text(json.dumps(report, indent=1, default=str))

        # The job was accepted before the outage; wait for it to end (however it ends) and count its versions.
        deadline = time.monotonic() + args.job_timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = api(stack, "GET", f"/tasks/{job_id}")
            if status.get("ready"):
                break
            time.sleep(2)
        versions_after = job_versions(stack, job_id)
        final_after = api(stack, "GET", f"/experiments/{done_id}/results")
        running_after = exposures(api(stack, "GET", f"/experiments/{running_id}/results"))
        api(stack, "POST", f"/experiments/{running_id}/stop")
        load = load_line()

    during = window(report, stopped_at, back_at)
    after = window(report, back_at, 1e9)
    before = window(report, 0, stopped_at - 1)
    edge = window(report, stopped_at - 1, stopped_at)
    first_ok = next((r["second"] - back_at for r in report["timeline"]
                     if r["second"] >= back_at and r["ok"] and not r["errors"]), None)
    lat = report["latencyMs"]["all"]
    lines += [
        f"traffic: {report['requests']} calls in {report['elapsedS']:.0f} s, errors {report['errors']['byKind']}; "
        f"client start lag at most {report['maxStartLagMs']} ms",
        f"before outage  [0, {stopped_at - 1:.1f}) s: {before['requests']} calls, errors {before['errors'] or 0}",
        f"last second before the stop (calls in flight when Redis went away): {edge['requests']} calls, "
        f"ok {edge['ok']}, errors {edge['errors'] or 0}, slowest {edge['max_latency_ms']} ms",
        f"during outage  [{stopped_at:.1f}, {back_at:.1f}) s: {during['requests']} calls, ok {during['ok']}, "
        f"errors {during['errors'] or 0}, slowest {during['max_latency_ms']} ms",
        f"after outage   [{back_at:.1f}, end) s: {after['requests']} calls, ok {after['ok']}, "
        f"errors {after['errors'] or 0}",
        f"slowest call of the run {lat['max']:.0f} ms; /health during outage: {during_health.status_code} "
        f"in {health_down_ms:.0f} ms",
        f"recovery: /health 200 {healthy_after_s:.1f} s after Redis restarted; first error-free second "
        f"{'-' if first_ok is None else f'{first_ok:+.0f} s'} after it",
        f"training job {job_id}: state {status.get('state')}, result version "
        f"{(status.get('result') or {}).get('version')}, attempt {(status.get('result') or {}).get('attempt')}; "
        f"versions with its job id: before outage {versions_before}, after {versions_after}",
        f"stopped experiment results identical before/after: "
        f"{json.dumps(final_before, sort_keys=True) == json.dumps(final_after, sort_keys=True)} "
        f"(exposures {exposures(final_before)})",
        f"running experiment exposures just before the outage {running_before}, after {running_after}",
    ]
    odd = [(r["second"], r["errors"]) for r in report["timeline"]
           if r["errors"] and not stopped_at - 1 <= r["second"] < back_at]
    lines.append(f"seconds with errors outside the outage (by start time): {odd or 'none'}")
    codes = set(during["errors"])
    codes |= set(edge["errors"])
    checks["503 during outage, nothing else"] = bool(during["errors"]) and codes <= {"http_503"}
    checks["no errors before the outage"] = not before["errors"]
    checks["no call hangs (slowest < 10 s)"] = lat["max"] < 10_000
    checks["no errors after recovery + 5 s"] = not window(report, back_at + 5, 1e9)["errors"]
    checks["training job finished exactly once"] = status.get("state") == "SUCCESS" and len(versions_after) == 1
    checks["stopped experiment unchanged"] = json.dumps(final_before, sort_keys=True) == json.dumps(
        final_after, sort_keys=True)
    checks["running experiment lost nothing"] = all(running_after[k] >= running_before[k] for k in running_before)

    print("\n==== fault drill: Redis stopped under load ====")
    print(f"rate {args.rate:g} req/s planned; Redis stopped at {stopped_at:.1f} s for {args.outage:g} s")
    print("\n".join(lines))
    for name, ok in checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}")
    print(load + " (at the end)")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
