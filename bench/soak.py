"""Soak (issue 7): the whole system as real processes under a steady simulated load for 10 minutes.

Figures: requests, errors (target: zero), latency, accuracy, and the RSS of every process (API main and gunicorn
workers, inference worker main and prefork children, Redis) after a warm-up and at the end, sampled every minute.

Usage: python bench/soak.py [--duration 600] [--rate 20] [--warmup 30] [--json-out soak.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack, load_line, redis_contents  # noqa: E402
from geulpi_tasks.tools.simulation.plan import TrafficConfig  # noqa: E402
from geulpi_tasks.tools.simulation.runner import RunOptions, Simulation  # noqa: E402
from geulpi_tasks.tools.simulation.stats import format_report  # noqa: E402


def rss_table(samples: list[tuple[float, dict[str, float]]]) -> str:
    first, last = samples[0][1], samples[-1][1]
    lines = [f"{'process':28s} {'start MiB':>10s} {'end MiB':>10s} {'change':>9s} {'min':>8s} {'max':>8s}"]
    for key in sorted(set(first) | set(last)):
        series = [s[key] for _, s in samples if key in s]
        start, end = first.get(key), last.get(key)
        change = f"{100 * (end - start) / start:+8.1f}%" if start and end else "     n/a"
        lines.append(f"{key:28s} {start or 0:10.1f} {end or 0:10.1f} {change} {min(series):8.1f} {max(series):8.1f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--sample-every", type=float, default=60.0)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    with Stack(inference_workers=1, inference_concurrency=2) as stack:
        print(f"stack up: API {stack.api_url}, logs {stack.logs}; {load_line()}", flush=True)
        options = RunOptions(base_url=stack.api_url, api_key=stack.api_key, progress=False,
                             timeout_s=stack.settings.sync_timeout_s + 5)
        warm = Simulation(TrafficConfig(rate=args.rate, duration_s=args.warmup, seed=1), options).run()
        print(f"warm-up: {warm['requests']} requests, {warm['errors']['total']} errors", flush=True)

        samples: list[tuple[float, dict[str, float]]] = [(0.0, stack.rss_mb())]
        redis_start = redis_contents(stack.settings.redis_url)
        simulation = Simulation(TrafficConfig(rate=args.rate, duration_s=args.duration, seed=2), options)
        done = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not done.wait(args.sample_every):
                samples.append((time.monotonic() - started, stack.rss_mb()))
                elapsed = time.monotonic() - started
                print(f"  t={elapsed:5.0f} s  {simulation.tally.summary_line(elapsed)}  | {load_line()}", flush=True)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        report = simulation.run()
        done.set()
        sampler.join()
        samples.append((time.monotonic() - started, stack.rss_mb()))
        load = load_line()
        redis_end = redis_contents(stack.settings.redis_url)

    print("\n==== soak figures ====")
    print(f"duration {args.duration:.0f} s at {args.rate:g} planned req/s (+ feedback calls); "
          f"warm-up {args.warmup:g} s")
    print(format_report(report))
    print(f"max start lag {report['maxStartLagMs']} ms; feedback stored {report['feedbackStored']}")
    print("\nRSS (start = after warm-up; sampled every", f"{args.sample_every:g} s, {len(samples)} samples)")
    print(rss_table(samples))
    print(f"Redis data after warm-up: {redis_start}")
    print(f"Redis data at the end:    {redis_end}")
    print(f"\n{load} (at the end)")
    verdict = "PASS" if report["errors"]["total"] == 0 else "FAIL"
    print(f"zero errors: {verdict}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"report": report, "rss": samples}, indent=2, default=str))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
