"""Simulation of the A/B decision rule, on the domain code alone (no HTTP, no Redis).

- A/A: both arms share one success rate; the results are read after every batch of requests and a "winner" is
  any declaration before the end. The always-valid rule must keep that rate at or below alpha (5 %).
- A/B: a true difference of 3 points in success rate, up to 5000 requests per arm: the power is the share of
  runs where the better arm is declared the winner (and the share where the worse one is, which must stay ~0).
For contrast, the same runs are judged by a naive fixed-horizon z-test read after every batch.

    python -m bench.simulate_ab [--runs 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from geulpi_tasks.experiments.statistics import decide_winner, two_proportion_test


@dataclass(frozen=True)
class SimulationResult:
    runs: int
    declared_treatment: int
    declared_control: int
    naive_peeking_significant: int
    mean_stop_requests: float | None

    @property
    def winner_rate(self) -> float:
        return (self.declared_treatment + self.declared_control) / self.runs


def simulate(*, runs: int, control_rate: float, treatment_rate: float, per_arm: int, batch: int,
             min_samples: int = 1000, alpha: float = 0.05, tau: float = 0.03, seed: int = 0) -> SimulationResult:
    """Run ``runs`` experiments of ``per_arm`` requests per arm, checked after every ``batch`` requests per arm.

    A run stops at its first declared winner (that is what a peeking operator would do).
    """
    rng = np.random.default_rng(seed)
    checks = per_arm // batch
    treatment = control = naive = 0
    stops: list[int] = []
    for _ in range(runs):
        s0 = np.cumsum(rng.binomial(batch, control_rate, size=checks))
        s1 = np.cumsum(rng.binomial(batch, treatment_rate, size=checks))
        naive_hit = False
        for k in range(checks):
            n = (k + 1) * batch
            if not naive_hit and n >= min_samples:
                p = two_proportion_test(int(s0[k]), n, int(s1[k]), n).p_value
                naive_hit = p is not None and p < alpha
            decision = decide_winner(["control", "treatment"], [int(s0[k]), int(s1[k])], [n, n],
                                     min_samples=min_samples, alpha=alpha, tau=tau)
            if decision["winner"] is not None:
                if decision["winner"] == "treatment":
                    treatment += 1
                else:
                    control += 1
                stops.append(n)
                break
        naive += naive_hit
    return SimulationResult(runs, treatment, control, naive, float(np.mean(stops)) if stops else None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=100, help="requests per arm between two looks")
    args = parser.parse_args(argv)
    for base in (0.90, 0.50):
        started = time.perf_counter()
        aa = simulate(runs=args.runs, control_rate=base, treatment_rate=base, per_arm=5000, batch=args.batch,
                      seed=args.seed)
        ab = simulate(runs=args.runs, control_rate=base, treatment_rate=base + 0.03, per_arm=5000, batch=args.batch,
                      seed=args.seed + 1)
        print(f"base success rate {base:.2f}, {args.runs} runs, looks every {args.batch} requests per arm "
              f"up to 5000 ({time.perf_counter() - started:.1f} s)")
        print(f"  A/A false-winner rate (always-valid): {aa.winner_rate:.4f}   "
              f"naive z-test peeking: {aa.naive_peeking_significant / aa.runs:.4f}")
        print(f"  A/B +3 points power (always-valid):   {ab.declared_treatment / ab.runs:.4f}   "
              f"wrong-direction winners: {ab.declared_control / ab.runs:.4f}   "
              f"mean requests per arm at stop: {ab.mean_stop_requests or float('nan'):.0f}")


if __name__ == "__main__":
    main()
