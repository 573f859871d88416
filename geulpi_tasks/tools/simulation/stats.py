"""What came back: outcomes of single requests, latency percentiles, error kinds, accuracy against the true labels,
the one-line live summary and the final report. Pure: no I/O, so it is unit-tested directly."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Outcome:
    """One HTTP call as the client saw it. ``error`` is None on 2xx, else its kind (``http_503``, ``timeout``...)."""

    kind: str
    started_s: float  # offset from the start of the run
    latency_ms: float
    status: int | None
    error: str | None
    labelled: int = 0  # events whose predicted category could be checked against the true label
    correct: int = 0
    realistic_labelled: int = 0  # of those, hand-labelled realistic events (the rest are generated)
    realistic_correct: int = 0
    variant: str | None = None  # A/B variant that served it, when an experiment ran


def error_kind(status: int | None, exc: BaseException | None = None) -> str | None:
    """The error bucket of a call: None for 2xx; ``http_<code>`` for other answers; else the transport failure."""
    if exc is not None:
        if isinstance(exc, TimeoutError):
            return "timeout"
        if isinstance(exc, (ConnectionError, OSError)):
            return "connection"
        return type(exc).__name__
    if status is not None and 200 <= status < 300:
        return None
    return f"http_{status}"


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    pos = (len(sorted_values) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def latency_summary(values: Iterable[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    mean = sum(ordered) / len(ordered) if ordered else None
    return {"count": len(ordered), "p50": percentile(ordered, 50), "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99), "max": ordered[-1] if ordered else None, "mean": mean}


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Tally:
    """Thread-safe collection of outcomes. Kept whole (a 10-minute soak at 20/s is 12 000 small records) so the
    report can show the per-second timeline of an outage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)

    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return list(self._outcomes)

    def summary_line(self, elapsed_s: float) -> str:
        """``reqs 812 ok 810 err 2 (http_503 2) p50 4.1 ms p99 38.0 ms acc 93.4% 19.8/s``."""
        outs = self.outcomes()
        errors = error_counts(outs)
        n_err = sum(errors.values())
        lat = latency_summary(o.latency_ms for o in outs if o.error is None)
        acc = accuracy(outs)
        detail = f" ({' '.join(f'{k} {v}' for k, v in sorted(errors.items()))})" if errors else ""
        rate = len(outs) / elapsed_s if elapsed_s > 0 else 0.0
        acc_text = "-" if acc["rate"] is None else f"{100 * acc['rate']:.1f}%"
        return (f"reqs {len(outs)} ok {len(outs) - n_err} err {n_err}{detail} p50 {_ms(lat['p50'])} ms "
                f"p99 {_ms(lat['p99'])} ms acc {acc_text} {rate:.1f}/s")


def error_counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.error is not None:
            counts[o.error] = counts.get(o.error, 0) + 1
    return counts


def accuracy(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """Accuracy against the true labels, overall and split by where the events came from: the generator, or the
    hand-labelled realistic holdout (the figure that says how the system does on real calendars)."""
    labelled = correct = real_labelled = real_correct = 0
    for o in outcomes:
        labelled += o.labelled
        correct += o.correct
        real_labelled += o.realistic_labelled
        real_correct += o.realistic_correct
    gen_labelled, gen_correct = labelled - real_labelled, correct - real_correct
    return {"labelled": labelled, "correct": correct, "rate": correct / labelled if labelled else None,
            "generated": {"labelled": gen_labelled, "correct": gen_correct,
                          "rate": gen_correct / gen_labelled if gen_labelled else None},
            "realistic": {"labelled": real_labelled, "correct": real_correct,
                          "rate": real_correct / real_labelled if real_labelled else None}}


def timeline(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """Per second of the run (by start time): calls, successes, errors by kind and the slowest call."""
    buckets: dict[int, dict[str, Any]] = {}
    for o in outcomes:
        b = buckets.setdefault(int(o.started_s), {"second": int(o.started_s), "requests": 0, "ok": 0, "errors": {},
                                                  "max_latency_ms": 0.0})
        b["requests"] += 1
        if o.error is None:
            b["ok"] += 1
        else:
            b["errors"][o.error] = b["errors"].get(o.error, 0) + 1
        b["max_latency_ms"] = max(b["max_latency_ms"], o.latency_ms)
    return [buckets[k] for k in sorted(buckets)]


def build_report(outcomes: list[Outcome], *, elapsed_s: float, config: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The final report (JSON-able): counts per kind and status, errors by kind, latency, accuracy, timeline."""
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({o.kind for o in outcomes}):
        outs = [o for o in outcomes if o.kind == kind]
        by_kind[kind] = {"requests": len(outs), "ok": sum(o.error is None for o in outs),
                         "errors": error_counts(outs),
                         "latencyMs": latency_summary(o.latency_ms for o in outs if o.error is None)}
    statuses: dict[str, int] = {}
    for o in outcomes:
        key = str(o.status) if o.status is not None else "none"
        statuses[key] = statuses.get(key, 0) + 1
    errors = error_counts(outcomes)
    variants: dict[str, int] = {}
    for o in outcomes:
        if o.variant is not None:
            variants[o.variant] = variants.get(o.variant, 0) + 1
    return {
        "config": config,
        "elapsedS": round(elapsed_s, 3),
        "requests": len(outcomes),
        "ok": len(outcomes) - sum(errors.values()),
        "throughputRps": round(len(outcomes) / elapsed_s, 2) if elapsed_s > 0 else None,
        "byKind": by_kind,
        "statuses": dict(sorted(statuses.items())),
        "errors": {"total": sum(errors.values()), "byKind": dict(sorted(errors.items()))},
        "latencyMs": {"ok": latency_summary(o.latency_ms for o in outcomes if o.error is None),
                      "all": latency_summary(o.latency_ms for o in outcomes)},
        "accuracy": accuracy(outcomes),
        "variants": variants,
        "timeline": timeline(outcomes),
        **(extra or {}),
    }


def format_report(report: dict[str, Any]) -> str:
    """A short human-readable block of the report's figures."""
    lat = report["latencyMs"]
    lines = [f"requests {report['requests']} in {report['elapsedS']:.1f} s ({report['throughputRps']}/s), "
             f"ok {report['ok']}, errors {report['errors']['total']} {report['errors']['byKind'] or ''}".rstrip(),
             f"latency ok   p50 {_ms(lat['ok']['p50'])}  p90 {_ms(lat['ok']['p90'])}  p99 {_ms(lat['ok']['p99'])}  "
             f"max {_ms(lat['ok']['max'])} ms",
             f"latency all  p50 {_ms(lat['all']['p50'])}  p99 {_ms(lat['all']['p99'])}  "
             f"max {_ms(lat['all']['max'])} ms"]
    for kind, row in report["byKind"].items():
        lines.append(f"  {kind:9s} {row['requests']:6d} ok {row['ok']:6d}  p50 {_ms(row['latencyMs']['p50'])}  "
                     f"p99 {_ms(row['latencyMs']['p99'])} ms  errors {row['errors'] or 0}")
    acc = report["accuracy"]
    if acc["rate"] is not None:
        lines.append(f"accuracy vs true labels {100 * acc['rate']:.2f}% ({acc['correct']}/{acc['labelled']} events)")
        for source in ("realistic", "generated"):
            part = acc.get(source) or {}
            if part.get("rate") is not None:
                lines.append(f"  on {source} events {100 * part['rate']:.2f}% "
                             f"({part['correct']}/{part['labelled']})")
    if report.get("variants"):
        lines.append(f"A/B variants served: {report['variants']}")
    if report.get("experiment"):
        lines.append(f"experiment: {report['experiment'].get('summary', report['experiment'])}")
    return "\n".join(lines)
