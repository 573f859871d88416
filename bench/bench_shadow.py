"""Shadow deployment cost (issue 17): production's latency with and without a shadow, on the real stack in one run.

The stack (bench/_stack.py: Redis with AOF, MLflow on SQLite, the API under gunicorn, an inference worker as
``scripts/start`` runs it) serves version 1; a second version is registered. Blocks alternate without / with the
shadow ``--rounds`` times, so the shared machine's background noise hits both alike. Each block times
``--requests`` sequential POST /v2/classify-event calls (one keep-alive client) and, with ``--clients``, a closed
loop of that many clients for ``--seconds``. Before a "with" block is timed, the shadow has scored events (its
model is loaded); at the end the shadow's counts are checked against the calls made while it ran.

Usage: python bench/bench_shadow.py [--requests 400] [--rounds 3] [--clients 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._load import saturate  # noqa: E402
from bench._stack import Stack, load_line  # noqa: E402
from bench.bench_serving import JsonClient  # noqa: E402
from geulpi_tasks.data.generator import generate_events  # noqa: E402


def p50(values: list[float]) -> float:
    return float(np.percentile(np.asarray(values), 50))


def summary(stack: Stack) -> dict[str, Any]:
    answer = requests.get(stack.api_url + f"/models/{stack.settings.model_name}/shadow", headers=stack.headers(),
                          timeout=30)
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


def wait_observed(stack: Stack, target: int, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = summary(stack)
        if current["events"]["observed"] >= target or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="0: sequential rows only")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--samples", type=int, default=8000)
    parser.add_argument("--trees", type=int, default=80)
    args = parser.parse_args()

    events = [{k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}
              for e in generate_events(2000, seed=99)]
    with Stack(samples=args.samples, trees=args.trees) as stack:
        shadow_version = stack.register_challenger()
        model = stack.settings.model_name
        client = JsonClient(stack.api_port)
        counter = iter(range(10**9))

        def classify() -> float:
            started = time.perf_counter()
            client.post("/v2/classify-event", events[next(counter) % len(events)])
            return (time.perf_counter() - started) * 1000.0

        for _ in range(50):  # warm-up: model loaded, connections open
            classify()
        sequential: dict[str, list[float]] = {"without": [], "with": []}
        loaded: dict[str, list[float]] = {"without": [], "with": []}
        shadowed_calls = 0
        observed_before = 0
        for rnd in range(args.rounds):
            for mode in ("without", "with"):
                if mode == "with":
                    started = requests.post(stack.api_url + f"/models/{model}/shadow", headers=stack.headers(),
                                            json={"version": shadow_version}, timeout=30)
                    started.raise_for_status()
                    time.sleep(stack.settings.shadow_cache_ttl_s + 0.5)  # past every worker's shadow cache
                    for _ in range(20):  # the shadow's model is loaded off the path on its first events
                        classify()
                    observed_before = wait_observed(stack, 20)["events"]["observed"]
                    shadowed_calls = 0
                block = [classify() for _ in range(args.requests)]
                sequential[mode] += block
                line = f"round {rnd} {mode:7s} shadow: sequential p50 {p50(block):6.2f} ms"
                answered = 0
                if args.clients:
                    target = {"port": stack.api_port, "path": "/v2/classify-event", "bodies": events[:500],
                              "timeout": 60}
                    result = saturate("http", target, args.clients, args.seconds)
                    answered = result.answered
                    loaded[mode].append(result.pct(50))
                    line += (f"; {args.clients} clients p50 {result.pct(50):6.2f} ms, {result.rps:6.1f} req/s, "
                             f"errors {result.error_count}")
                print(f"{line}  ({load_line()})", flush=True)
                if mode == "with":
                    shadowed_calls = args.requests + answered
                    final = wait_observed(stack, observed_before + shadowed_calls)
                    events_seen = final["events"]["observed"] - observed_before
                    print(f"  shadow counted {events_seen} of the {shadowed_calls} calls made while it ran "
                          f"(scored {final['events']['scored']}, failed {final['events']['failed']}, dropped "
                          f"{final['events']['dropped']}); agreement {final['agreement']['rate']:.3f}, latency "
                          f"p50 production {final['latencyMs']['production']['p50']:.3f} ms, shadow "
                          f"{final['latencyMs']['shadow']['p50']:.3f} ms", flush=True)
                    requests.delete(stack.api_url + f"/models/{model}/shadow", headers=stack.headers(),
                                    timeout=30).raise_for_status()
                    time.sleep(stack.settings.shadow_cache_ttl_s + 0.5)

        print(f"\nproduction POST /v2/classify-event, {args.rounds} rounds of {args.requests} sequential calls per "
              f"mode; {load_line()}")
        base, shadowed = p50(sequential["without"]), p50(sequential["with"])
        print(f"{'':28s} {'without shadow':>15s} {'with shadow':>12s} {'ratio':>7s}")
        print(f"{'sequential p50 (ms)':28s} {base:15.3f} {shadowed:12.3f} {shadowed / base:7.3f}   (target <= 1.10)")
        print(f"{'sequential mean (ms)':28s} {statistics.fmean(sequential['without']):15.3f} "
              f"{statistics.fmean(sequential['with']):12.3f}")
        if args.clients:
            a, b = statistics.median(loaded["without"]), statistics.median(loaded["with"])
            print(f"{f'{args.clients} clients p50 (ms, median)':28s} {a:15.3f} {b:12.3f} {b / a:7.3f}")


if __name__ == "__main__":
    main()
