"""The traffic plan: which request goes out when, from which user, carrying which generated events.

Pure and seeded, so a run can be repeated and unit-tested: arrivals are a Poisson process whose rate follows a
repeating cycle of normal load, bursts and idle periods (with ``bursts``) or stays constant; users are drawn from a
skewed distribution (a few heavy users, a long tail), as real calendars are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

# One burst cycle: (seconds, rate factor). Normal load, a burst at 4x, a pause, normal again; the factors are
# rescaled so the cycle's mean rate equals the requested rate.
BURST_CYCLE: tuple[tuple[float, float], ...] = ((8.0, 1.0), (3.0, 4.0), (4.0, 0.0), (5.0, 1.0))
ANALYSIS_PATHS = ("/analyze-balance", "/optimize-schedule", "/detect-patterns", "/analyze-burnout")


class Kind(str, Enum):
    CLASSIFY = "classify"
    BATCH = "batch"
    ANALYSIS = "analysis"
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class TrafficConfig:
    """What to send. ``rate`` is the mean of planned requests per second (feedback calls come on top)."""

    users: int = 200
    rate: float = 20.0
    duration_s: float = 60.0
    feedback_share: float = 0.2  # share of single classifications the user then corrects with the true label
    batch_share: float = 0.1
    analysis_share: float = 0.05
    max_batch: int = 20
    analysis_events: int = 30
    bursts: bool = False
    seed: int = 7

    def check(self) -> None:
        """Raises ValueError naming the first out-of-range field."""
        if self.users < 1:
            raise ValueError("users must be at least 1")
        if not 0 < self.rate <= 10_000:
            raise ValueError("rate must be above 0 and at most 10000 requests/s")
        if not 0 < self.duration_s <= 7 * 24 * 3600:
            raise ValueError("duration must be above 0 and at most a week")
        for name in ("feedback_share", "batch_share", "analysis_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.batch_share + self.analysis_share > 1:
            raise ValueError("batch_share + analysis_share must be at most 1")
        if not 2 <= self.max_batch <= 1000:
            raise ValueError("max_batch must be between 2 and 1000")
        if not 1 <= self.analysis_events <= 1000:
            raise ValueError("analysis_events must be between 1 and 1000")


@dataclass(frozen=True)
class PlannedRequest:
    at_s: float  # offset from the start of the run
    kind: Kind
    user_id: str
    events: tuple[int, ...]  # indices into the event pool
    path: str
    feedback: bool = False  # send the true label to /feedback after the answer


def rate_segments(config: TrafficConfig) -> list[tuple[float, float, float]]:
    """(start_s, end_s, rate) pieces covering the run; constant without bursts."""
    if not config.bursts:
        return [(0.0, config.duration_s, config.rate)]
    cycle = sum(d for d, _ in BURST_CYCLE)
    mean_factor = sum(d * f for d, f in BURST_CYCLE) / cycle
    segments: list[tuple[float, float, float]] = []
    t = 0.0
    while t < config.duration_s:
        for seconds, factor in BURST_CYCLE:
            end = min(t + seconds, config.duration_s)
            if end > t:
                segments.append((t, end, config.rate * factor / mean_factor))
            t = end
            if t >= config.duration_s:
                break
    return segments


def user_weights(n_users: int) -> list[float]:
    """Zipf-like (s = 0.8): user 0 is the heaviest, the tail still sends now and then."""
    return [1.0 / (i + 1) ** 0.8 for i in range(n_users)]


def plan_traffic(config: TrafficConfig, pool_size: int) -> list[PlannedRequest]:
    """Every planned request of the run in time order; the same config and pool size give the same plan."""
    config.check()
    if pool_size < max(config.max_batch, config.analysis_events):
        raise ValueError("the event pool is smaller than one batch or one analysis")
    rng = random.Random(config.seed)
    users = [f"sim-user-{i:05d}" for i in range(config.users)]
    weights = user_weights(config.users)
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    out: list[PlannedRequest] = []
    for start, end, rate in rate_segments(config):
        if rate <= 0:
            continue
        t = start + rng.expovariate(rate)
        while t < end:
            user = rng.choices(users, cum_weights=cum)[0]
            r = rng.random()
            if r < config.analysis_share:
                picks = tuple(rng.sample(range(pool_size), config.analysis_events))
                out.append(PlannedRequest(t, Kind.ANALYSIS, user, picks, rng.choice(ANALYSIS_PATHS)))
            elif r < config.analysis_share + config.batch_share:
                size = rng.randint(2, config.max_batch)
                out.append(PlannedRequest(t, Kind.BATCH, user, tuple(rng.sample(range(pool_size), size)),
                                          "/v2/classify-events"))
            else:
                out.append(PlannedRequest(t, Kind.CLASSIFY, user, (rng.randrange(pool_size),), "/v2/classify-event",
                                          feedback=rng.random() < config.feedback_share))
            t += rng.expovariate(rate)
    return out


def plan_counts(plan: list[PlannedRequest]) -> dict[str, int]:
    """Planned requests per kind, plus the feedback calls they will cause."""
    counts = {k.value: 0 for k in Kind}
    for item in plan:
        counts[item.kind.value] += 1
        counts[Kind.FEEDBACK.value] += int(item.feedback)
    return counts
