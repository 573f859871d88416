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


def record_feedback_outcome(redis: Any, key_prefix: str, model_name: str, model_version: str, correct: bool, *,
                            ts: float | None = None) -> None:
    """Count one scored answer of ``model_version`` (correct or not) towards its online accuracy."""
    redis.xadd(MonitoringKeys(key_prefix).outcomes(model_name),
               {"ts": repr(time.time() if ts is None else ts), "v": str(model_version), "ok": "1" if correct else "0"},
               maxlen=MAX_OUTCOMES, approximate=True)


def accuracy_by_version(redis: Any, key_prefix: str, model_name: str, *, since: float,
                        until: float | None = None) -> dict[str, dict[str, float]]:
    """Per version: ``{"correct", "total", "accuracy"}`` over feedback recorded in [since, until]."""
    until = time.time() if until is None else until
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _id, raw in redis.xrevrange(MonitoringKeys(key_prefix).outcomes(model_name), count=MAX_OUTCOMES):
        f = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
             for k, v in raw.items()}
        ts = float(f["ts"])
        if ts < since or ts > until:
            continue
        tally = tallies[f["v"]]
        tally[0] += f["ok"] == "1"
        tally[1] += 1
    return {v: {"correct": c, "total": t, "accuracy": c / t} for v, (c, t) in tallies.items()}
