"""Timing of the four calendar analyses on a seeded 90-day calendar of 500 categorised events.

Each analysis gets its request parsed once (parsing is timed separately) and is then run ``--runs`` times;
the table shows median and max wall time per call. Goal: every analysis under 200 ms.
The schedule optimiser is given the whole 90 days at once, with every constraint set, as its worst case.

Usage: python bench/bench_analyses.py [--runs 20] [--events 500] [--days 90] [--seed 11]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.analyses import (  # noqa: E402
    analyze_balance,
    analyze_burnout,
    analyze_patterns,
    analyze_schedule,
    parse_balance_request,
    parse_burnout_request,
    parse_patterns_request,
    parse_schedule_request,
)

GOAL_MS = 200.0
WORK_TITLES = ["Team sync", "Client call", "Design review", "Write spec", "Code review", "Deep work", "1:1 with Min"]
OTHER = {
    "HEALTH": (["Gym", "Morning run", "Yoga"], [7, 18, 19]),
    "PERSONAL": (["Groceries", "Dentist", "Lunch"], [12, 17, 20]),
    "SOCIAL": (["Dinner with friends", "Birthday party", "Coffee"], [12, 19, 20]),
    "LEARNING": (["Korean class", "Read book", "Online course"], [7, 20, 21]),
    "OTHER": (["Commute", "Errands"], [8, 18]),
}


def build_calendar(n_events: int, days: int, seed: int) -> list[dict[str, Any]]:
    """Weekday work with meetings (some late or overlapping), plus other categories around it; deterministic."""
    rng = random.Random(seed)
    first = datetime(2024, 1, 1)
    events: list[dict[str, Any]] = []
    for i in range(n_events):
        day = first + timedelta(days=rng.randrange(days))
        if rng.random() < 0.6 and (day.weekday() < 5 or rng.random() < 0.2):
            title, category = rng.choice(WORK_TITLES), "WORK"
            hour = rng.choice([9, 10, 11, 13, 14, 15, 16, 17]) if rng.random() < 0.9 else rng.choice([3, 20, 22])
            minutes = rng.choice([30, 45, 60, 90, 120])
        else:
            category = rng.choice(sorted(OTHER))
            titles, hours = OTHER[category]
            title, hour, minutes = rng.choice(titles), rng.choice(hours), rng.choice([30, 60, 90])
        start = day + timedelta(hours=hour, minutes=rng.choice([0, 15, 30]))
        event: dict[str, Any] = {"eventId": f"e{i}", "title": title, "category": category,
                                 "startTime": start.isoformat(),
                                 "endTime": (start + timedelta(minutes=minutes)).isoformat()}
        if category == "WORK" and title in {"Team sync", "Client call", "Design review"}:
            event["attendees"] = ["a@example.com", "b@example.com"]
        if rng.random() < 0.05:
            event["fixed"] = True
        events.append(event)
    return events


def measure(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    events = build_calendar(args.events, args.days, args.seed)
    end = (datetime(2024, 1, 1) + timedelta(days=args.days - 1)).date().isoformat()
    payloads: dict[str, tuple[dict[str, Any], Callable[..., Any], Callable[[Any], Any]]] = {
        "balance": ({"userId": "bench", "startDate": "2024-01-01", "endDate": end, "events": events},
                    parse_balance_request, analyze_balance),
        "optimize-schedule": ({"userId": "bench", "startDate": "2024-01-01", "endDate": end, "events": events,
                               "constraints": {"workingHours": {"start": "09:00", "end": "18:00"},
                                               "daysOff": ["SATURDAY", "SUNDAY"], "minBreakMinutes": 10,
                                               "noMeetingWindows": [{"start": "12:00", "end": "13:00"}],
                                               "maxMeetingHoursPerDay": 4, "maxConsecutiveMeetingHours": 2}},
                              parse_schedule_request, analyze_schedule),
        "patterns": ({"userId": "bench", "events": events, "lookbackDays": args.days},
                     parse_patterns_request, analyze_patterns),
        "burnout": ({"userId": "bench", "events": events, "lookbackDays": args.days, "includeRecommendations": True},
                    parse_burnout_request, analyze_burnout),
    }
    print(f"{args.events} events over {args.days} days, {args.runs} runs each (ms)")
    print(f"{'analysis':<20}{'parse med':>10}{'median':>10}{'max':>10}  goal<{GOAL_MS:g}  summary")
    for name, (payload, parse, analyze) in payloads.items():
        parse_median, _ = measure(partial(parse, payload), args.runs)
        request = parse(payload)
        result = analyze(request)
        median, worst = measure(partial(analyze, request), args.runs)
        summary = {
            "balance": lambda r: f"score={r['score']}",
            "optimize-schedule": lambda r: f"{len(r['suggestions'])} moves, "
                                           f"{r['balanceScoreBefore']}→{r['balanceScoreAfter']}",
            "patterns": lambda r: f"{len(r['patterns'])} patterns, {len(r['anomalies'])} anomalies",
            "burnout": lambda r: f"risk={r['riskScore']} ({r['level']})",
        }[name](result)
        verdict = "ok" if worst < GOAL_MS else "SLOW"
        print(f"{name:<20}{parse_median:>10.1f}{median:>10.1f}{worst:>10.1f}  {verdict:<9}  {summary}")


if __name__ == "__main__":
    main()
