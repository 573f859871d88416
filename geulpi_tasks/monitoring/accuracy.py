"""Online accuracy from feedback: each scored answer is one correct/incorrect outcome of the version that gave it.

``POST /feedback`` (``geulpi_tasks/feedback.py``) knows the served answer and calls ``record_feedback_outcome``;
``ml_model_accuracy``, the accuracy alert metric and the dashboard's ``recent_accuracy`` read the outcomes back.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from geulpi_tasks.monitoring.keys import MonitoringKeys

# Outcomes kept per model (newest); accuracy over a window reads the stream back.
MAX_OUTCOMES = 100_000
# An answer at or above this confidence that a user corrects is a confident miss: a sign of drift, or of a rule in
# LABELS.md the model has not learned.
CONFIDENT = 0.9


def record_feedback_outcome(redis: Any, key_prefix: str, model_name: str, model_version: str, correct: bool, *,
                            predicted: str | None = None, confidence: float | None = None,
                            ts: float | None = None) -> None:
    """Count one scored answer of ``model_version`` (correct or not) towards its online accuracy, with the class it
    answered and its confidence when known."""
    fields = {"ts": repr(time.time() if ts is None else ts), "v": str(model_version), "ok": "1" if correct else "0"}
    if predicted is not None:
        fields["c"] = predicted
    if isinstance(confidence, (int, float)):
        fields["p"] = repr(float(confidence))
    redis.xadd(MonitoringKeys(key_prefix).outcomes(model_name), fields, maxlen=MAX_OUTCOMES, approximate=True)


def confident_disagreement(redis: Any, key_prefix: str, model_name: str, *, since: float,
                           until: float | None = None, threshold: float = CONFIDENT) -> dict[str, dict[str, Any]]:
    """Per answered class: of the answers given with confidence >= ``threshold`` that users gave feedback on, how
    many they corrected (``{"scored", "corrected", "share"}``), over feedback recorded in [since, until]."""
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in _outcomes(redis, key_prefix, model_name, since, until):
        if "c" in f and "p" in f and float(f["p"]) >= threshold:
            tally = tallies[f["c"]]
            tally[0] += 1
            tally[1] += f["ok"] != "1"
    return {c: {"scored": n, "corrected": k, "share": k / n} for c, (n, k) in sorted(tallies.items())}


def _outcomes(redis: Any, key_prefix: str, model_name: str, since: float, until: float | None) -> list[dict[str, str]]:
    until = time.time() if until is None else until
    out = []
    for _id, raw in redis.xrevrange(MonitoringKeys(key_prefix).outcomes(model_name), count=MAX_OUTCOMES):
        f = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
             for k, v in raw.items()}
        if since <= float(f["ts"]) <= until:
            out.append(f)
    return out


def accuracy_by_version(redis: Any, key_prefix: str, model_name: str, *, since: float,
                        until: float | None = None) -> dict[str, dict[str, float]]:
    """Per version: ``{"correct", "total", "accuracy"}`` over feedback recorded in [since, until]."""
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in _outcomes(redis, key_prefix, model_name, since, until):
        tally = tallies[f["v"]]
        tally[0] += f["ok"] == "1"
        tally[1] += 1
    return {v: {"correct": c, "total": t, "accuracy": c / t} for v, (c, t) in tallies.items()}
