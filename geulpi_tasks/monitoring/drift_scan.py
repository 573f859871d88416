"""The periodic drift scan: recent prediction window vs the serving version's reference, stored for the dashboard,
the ``ml_drift_score`` gauge and the drift alert."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, Callable

from geulpi_tasks.monitoring.drift import detect_drift
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.monitoring.prediction_log import STATUS_SUCCESS, read_window

ReferenceLoader = Callable[[str], dict[str, Any]]


def scan_drift(redis: Any, key_prefix: str, *, model_name: str, load_reference: ReferenceLoader, window_s: float,
               min_samples: int, now: float | None = None) -> dict[str, Any]:
    """Scan the last ``window_s`` seconds of successful predictions of ``model_name`` and save the report.

    The version with the most predictions in the window is compared with its own reference (``load_reference``
    gets the version). Fewer than ``min_samples`` predictions: status ``insufficient_data`` and no scores, and the
    previous verdict is not overwritten by a guess. Registry errors from the loader propagate (Unavailable).
    """
    now = time.time() if now is None else now
    records = [r for r in read_window(redis, key_prefix, model_name, since=now - window_s, until=now)
               if r.status == STATUS_SUCCESS and r.features is not None]
    by_version = Counter(r.model_version for r in records)
    base = {"model_name": model_name, "scanned_at": now, "window_seconds": window_s,
            "predictions_by_version": dict(by_version)}
    if not records or by_version.most_common(1)[0][1] < min_samples:
        return {**base, "status": "insufficient_data", "min_samples": min_samples,
                "n_current": by_version.most_common(1)[0][1] if records else 0}
    version = by_version.most_common(1)[0][0]
    current = [r for r in records if r.model_version == version]
    reference = load_reference(version)
    report = detect_drift(reference, [r.features for r in current if r.features is not None],
                          [r.predicted_class for r in current if r.predicted_class])
    report = {**base, "status": "ok", "model_version": version, "reference_source": reference.get("source"),
              **report}
    redis.hset(MonitoringKeys(key_prefix).drift, model_name, json.dumps(report, separators=(",", ":")))
    return report


def latest_drift(redis: Any, key_prefix: str, model_name: str) -> dict[str, Any] | None:
    """The last saved drift report of a model, or None before its first successful scan."""
    raw = redis.hget(MonitoringKeys(key_prefix).drift, model_name)
    return json.loads(raw) if raw else None


def all_drift(redis: Any, key_prefix: str) -> dict[str, dict[str, Any]]:
    raw = redis.hgetall(MonitoringKeys(key_prefix).drift)
    return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}
