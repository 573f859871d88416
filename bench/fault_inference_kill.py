"""Fault drill (issue 7): kill -9 an inference worker — its whole process group, main and prefork children — while
the traffic simulator runs.

Scenario A: two workers, one is killed; the other keeps serving. Scenario B: the last worker is killed and a new one
is started N seconds later. Figures: errors by kind (503/504/...) before, during and after, the slowest call (it must
stay within the API's sync timeout + a margin: nothing hangs), and how soon calls succeed again.

Usage: python bench/fault_inference_kill.py [--rate 20] [--restart-after 10] [--sync-timeout 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Background, Stack, load_line, window  # noqa: E402
from geulpi_tasks.tools.simulation.plan import TrafficConfig  # noqa: E402
from geulpi_tasks.tools.simulation.runner import RunOptions, Simulation  # noqa: E402

MARGIN_S = 2.0  # allowed above the sync timeout: HTTP, gunicorn queueing and a loaded 2-core machine


def first_ok_after(report: dict, offset_s: float) -> float | None:
    """Seconds from offset_s to the first second (by start time) after it with only successful calls."""
    for row in report["timeline"]:
        if row["second"] >= int(offset_s) and row["requests"] and not row["errors"]:
            return row["second"] - offset_s
    return None


def last_error_at(report: dict) -> float | None:
    errs = [row["second"] for row in report["timeline"] if row["errors"]]
    return max(errs) if errs else None


def describe(name: str, run: Background, marks: dict[str, float], bound_s: float) -> list[str]:
    report = run.join()
    lat = report["latencyMs"]["all"]
    over = [o for o in run.simulation.tally.outcomes() if o.latency_ms > bound_s * 1000]
    lines = [f"-- {name}",
             f"   requests {report['requests']} ok {report['ok']} errors {report['errors']['byKind'] or 0}; "
             f"client start lag at most {report['maxStartLagMs']} ms",
             f"   latency p50 {lat['p50']:.1f} ms p99 {lat['p99']:.1f} ms max {lat['max']:.1f} ms "
             f"(bound {bound_s * 1000:.0f} ms: {'PASS' if lat['max'] <= bound_s * 1000 else 'FAIL'}; "
             f"{len(over)} calls over it)"]
    points = sorted(marks.items(), key=lambda kv: kv[1])
    edges = [0.0, *[t for _, t in points], report["elapsedS"] + 1]
    labels = ["before " + points[0][0], *[f"after {k}" for k, _ in points]]
    for label, start, end in zip(labels, edges, edges[1:]):
        w = window(report, start, end)
        lines.append(f"   {label:28s} [{start:5.1f}, {end:5.1f}) s: {w['requests']:5d} calls, ok {w['ok']:5d}, "
                     f"errors {w['errors'] or 0}, slowest {w['max_latency_ms']} ms")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--kill-at", type=float, default=10.0)
    parser.add_argument("--restart-after", type=float, default=10.0)
    parser.add_argument("--duration-a", type=float, default=35.0)
    parser.add_argument("--duration-b", type=float, default=60.0)
    parser.add_argument("--sync-timeout", type=float, default=10.0)
    args = parser.parse_args()
    bound = args.sync_timeout + MARGIN_S
    out: list[str] = []
    passed = True

    with Stack(inference_workers=2, inference_concurrency=2, sync_timeout_s=args.sync_timeout) as stack:
        print(f"stack up: API {stack.api_url}, logs {stack.logs}; {load_line()}", flush=True)
        # Enough threads that calls waiting out a timeout never hold back the planned ones (20/s x 10 s).
        options = RunOptions(base_url=stack.api_url, api_key=stack.api_key, progress=False, concurrency=256,
                             timeout_s=args.sync_timeout + 20)
        Simulation(TrafficConfig(rate=args.rate, duration_s=5, seed=1), options).run()  # warm connections

        # A: two workers, one dies.
        run = Background(Simulation(TrafficConfig(rate=args.rate, duration_s=args.duration_a, seed=2), options))
        run.sleep_until(args.kill_at)
        killed_at = run.elapsed()
        stack.kill_group("inference2")
        report_a = run.join()
        out += describe("A: 2 workers, kill -9 one (process group)", run, {"kill": killed_at}, bound)
        last = last_error_at(report_a)
        out.append(f"   last error at {last} s; errors after kill + sync timeout: "
                   f"{window(report_a, killed_at + args.sync_timeout + 1, 1e9)['errors'] or 0}")
        passed &= report_a["latencyMs"]["all"]["max"] <= bound * 1000
        passed &= not window(report_a, killed_at + args.sync_timeout + 1, 1e9)["errors"]
        load_a = load_line()

        # B: the last worker dies; a new one starts restart_after seconds later.
        run = Background(Simulation(TrafficConfig(rate=args.rate, duration_s=args.duration_b, seed=3), options))
        run.sleep_until(args.kill_at)
        killed_at = run.elapsed()
        stack.kill_group("inference1")
        run.sleep_until(killed_at + args.restart_after)
        restarted_at = run.elapsed()
        stack.start_inference("inference3")
        ready_s = stack.wait_healthy(120)
        ready_at = restarted_at + ready_s
        report_b = run.join()
        out += describe(f"B: 1 worker, kill -9, new worker started {args.restart_after:g} s later", run,
                        {"kill": killed_at, "restart": restarted_at, "worker ready": ready_at}, bound)
        first_ok = first_ok_after(report_b, ready_at)
        out.append(f"   new worker answered /health {ready_s:.1f} s after start; first error-free second "
                   f"{'-' if first_ok is None else f'{first_ok:+.0f} s'} after that; last error at "
                   f"{last_error_at(report_b)} s of {report_b['elapsedS']:.0f} s")
        tail = window(report_b, ready_at + args.sync_timeout + 1, 1e9)
        out.append(f"   after worker ready + sync timeout: {tail['requests']} calls, errors {tail['errors'] or 0}")
        passed &= report_b["latencyMs"]["all"]["max"] <= bound * 1000
        passed &= not tail["errors"] and tail["requests"] > 0
        load_b = load_line()

    print("\n==== fault drill: kill -9 inference worker ====")
    print(f"rate {args.rate:g} req/s planned, sync timeout {args.sync_timeout:g} s, hang bound {bound:g} s")
    print("\n".join(out))
    print(f"{load_a} (end of A); {load_b} (end of B)")
    print(f"verdict: {'PASS' if passed else 'FAIL'} (no call beyond the bound; no errors once a worker serves)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
