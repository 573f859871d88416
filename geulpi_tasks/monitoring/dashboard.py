"""The model dashboard (the seed's shape): every figure computed from the prediction log, feedback, the latest
drift scan and the alert states — nothing estimated, ``null`` where there is no data yet."""

from __future__ import annotations

import math
import time
from typing import Any

from geulpi_tasks.monitoring.accuracy import CONFIDENT, accuracy_by_version, confident_disagreement
from geulpi_tasks.monitoring.drift_scan import latest_drift
from geulpi_tasks.monitoring.monitor import Monitor, summarize_records
from geulpi_tasks.monitoring.prediction_log import read_window

# Trend: the latest hour against the mean of the earlier hours with data.
TREND_SUCCESS_POINTS = 0.02   # success rate moving by 2 points
TREND_LATENCY_SHARE = 0.2     # or average latency moving by 20 %


def _trend(hourly: list[dict[str, Any]]) -> str:
    with_data = [h for h in hourly if h["predictions"] > 0]
    if len(with_data) < 2:
        return "insufficient_data"
    last, earlier = with_data[-1], with_data[:-1]
    base_success = sum(h["success_rate"] for h in earlier) / len(earlier)
    latencies = [h["avg_latency_ms"] for h in earlier if h["avg_latency_ms"] is not None]
    worse = better = False
    if last["success_rate"] < base_success - TREND_SUCCESS_POINTS:
        worse = True
    elif last["success_rate"] > base_success + TREND_SUCCESS_POINTS:
        better = True
    if latencies and last["avg_latency_ms"] is not None:
        base_latency = sum(latencies) / len(latencies)
        if last["avg_latency_ms"] > base_latency * (1 + TREND_LATENCY_SHARE):
            worse = True
        elif last["avg_latency_ms"] < base_latency * (1 - TREND_LATENCY_SHARE):
            better = True
    if worse:
        return "degrading"
    return "improving" if better else "stable"


def health_status(total: int, active_alerts: list[dict[str, Any]]) -> str:
    """unhealthy: a critical alert fires; degraded: another alert fires; healthy: none; no_data: no predictions."""
    firing = [a for a in active_alerts if a["state"] == "firing"]
    if any(a["severity"] == "critical" for a in firing):
        return "unhealthy"
    if firing:
        return "degraded"
    return "healthy" if total else "no_data"


# What the dashboard shows of a version's logged figures: realistic (hand-labelled) beside generated.
QUALITY_METRICS = {
    "realistic_dev": ("realistic_dev_accuracy", "realistic_dev_macro_f1", "realistic_dev_ece",
                      "realistic_dev_en_macro_f1", "realistic_dev_ko_macro_f1", "realistic_dev_priority_accuracy"),
    "realistic_test": ("realistic_test_accuracy", "realistic_test_macro_f1", "realistic_test_ece",
                       "realistic_test_en_macro_f1", "realistic_test_ko_macro_f1",
                       "realistic_test_confident_error_share", "realistic_test_priority_accuracy",
                       "realistic_test_priority_macro_f1"),
    "generator": ("accuracy", "macro_f1", "ece"),
}


def quality_section(version_metrics: dict[str, float] | None) -> dict[str, Any] | None:
    """The serving version's offline figures as logged when it was trained; None for a version without a run."""
    if version_metrics is None:
        return None
    return {group: {name: version_metrics.get(name) for name in names} for group, names in QUALITY_METRICS.items()}


# What the dashboard lists of a version's global importance, per class.
IMPORTANCE_SHOWN = 5


def importance_section(importance: dict[str, Any] | None) -> dict[str, Any] | None:
    """Per class, the stage-2 inputs and the n-grams that most drive it (``models/explain.py``), shortened."""
    if not importance:
        return None
    return {"units": importance.get("units"), "method": importance.get("method"), "rows": importance.get("rows"),
            "per_class": {cls: {"features": entry["features"][:IMPORTANCE_SHOWN],
                                "terms_for": entry["terms_for"][:IMPORTANCE_SHOWN]}
                          for cls, entry in importance.get("per_class", {}).items()}}


def build_dashboard(monitor: Monitor, *, current_version: str | None, hours: int, now: float | None = None,
                    version_metrics: dict[str, float] | None = None,
                    importance: dict[str, Any] | None = None, cost: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """The dashboard of ``monitor.model_name`` over the last ``hours`` hours. ``version_metrics``: what the serving
    version logged when it was trained (its offline quality, realistic beside generated); ``importance``: its
    logged global importance summary; ``cost``: ``cost.cost_summary`` of the workers' counters."""
    now = time.time() if now is None else now
    since = now - hours * 3600
    records = read_window(monitor.redis, monitor.key_prefix, monitor.model_name, since=since, until=now)
    summary = summarize_records(records)
    outcomes = accuracy_by_version(monitor.redis, monitor.key_prefix, monitor.model_name, since=since, until=now)
    correct = sum(o["correct"] for o in outcomes.values())
    scored = sum(o["total"] for o in outcomes.values())
    first_hour = math.floor(since / 3600)
    buckets: dict[int, list[Any]] = {}
    for r in records:
        buckets.setdefault(math.floor(r.ts / 3600), []).append(r)
    hourly = []
    for hour in range(first_hour, math.floor(now / 3600) + 1):
        s = summarize_records(buckets.get(hour, []))
        if s["prediction_count"]:
            hourly.append({"hour": time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(hour * 3600)),
                           "predictions": s["prediction_count"], "success_rate": s["success_rate"],
                           "avg_latency_ms": s["avg_latency_ms"]})
    active = monitor.active_alerts()
    drift = latest_drift(monitor.redis, monitor.key_prefix, monitor.model_name)
    return {
        "model_name": monitor.model_name,
        "current_version": current_version,
        "health_status": health_status(summary["prediction_count"], active),
        "statistics": {
            "total_predictions": summary["prediction_count"],
            "success_rate": summary["success_rate"],
            "avg_latency_ms": summary["avg_latency_ms"],
            "recent_accuracy": correct / scored if scored else None,
            "feedback_count": scored,
            "window_hours": hours,
        },
        "quality": quality_section(version_metrics),
        "importance": importance_section(importance),
        "cost": cost,
        "confident_corrections": {
            "threshold": CONFIDENT,
            "per_class": confident_disagreement(monitor.redis, monitor.key_prefix, monitor.model_name, since=since,
                                                until=now)},
        "performance_trend": {"trend": _trend(hourly), "hourly_data": hourly},
        "active_alerts": active,
        "drift_detected": drift["drift_detected"] if drift else None,
        "drift": None if drift is None else {"scanned_at": drift["scanned_at"], "model_version": drift["model_version"],
                                             "scores": drift["scores"], "drifted_features": drift["drifted_features"]},
    }
