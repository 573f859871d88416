"""The monitor of one model: window metrics from the prediction log, alert rules (built-in and custom), their
evaluation with states and history, and the active alerts.

``Monitor(redis, key_prefix, model_name).add_alert(Alert(...))`` is the Python API from the seed; the HTTP API and
the Beat job go through the same object. Custom rules live in Redis (shared by every process).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from geulpi_tasks.errors import Conflict, NotFound
from geulpi_tasks.monitoring.accuracy import accuracy_by_version
from geulpi_tasks.monitoring.alerts import (
    METRICS,
    Alert,
    AlertState,
    RuleState,
    default_alerts,
    next_state,
    parse_alert,
)
from geulpi_tasks.monitoring.drift_scan import latest_drift
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.monitoring.prediction_log import STATUS_SUCCESS, PredictionRecord, read_window
from geulpi_tasks.monitoring.webhook import alertmanager_payload, deliver_webhook

MAX_HISTORY = 1000
# Metrics computed from the prediction log (the others come from feedback outcomes or the latest drift scan).
_LOG_METRICS = {"success_rate", "error_rate", "avg_latency_ms", "p95_latency_ms", "prediction_count"}
MAX_CUSTOM_RULES = 200


def summarize_records(records: list[PredictionRecord]) -> dict[str, Any]:
    """Counts, success rate and latency of a list of prediction records (None where there is no data)."""
    total = len(records)
    ok = [r for r in records if r.status == STATUS_SUCCESS]
    latencies = np.array([r.latency_ms for r in ok if r.latency_ms is not None], dtype=np.float64)
    return {
        "prediction_count": total,
        "success_count": len(ok),
        "success_rate": len(ok) / total if total else None,
        "error_rate": (total - len(ok)) / total if total else None,
        "avg_latency_ms": float(latencies.mean()) if latencies.size else None,
        "p95_latency_ms": float(np.percentile(latencies, 95)) if latencies.size else None,
    }


class Monitor:
    def __init__(self, redis: Any, key_prefix: str, model_name: str, *, webhook_url: str = ""):
        self.redis = redis
        self.key_prefix = key_prefix
        self.model_name = model_name
        self.webhook_url = webhook_url
        self.keys = MonitoringKeys(key_prefix)

    # --- rules --------------------------------------------------------------------------------------------------
    def add_alert(self, alert: Alert) -> Alert:
        """Save a custom rule. Conflict if the name is a built-in rule or already used."""
        if any(a.name == alert.name for a in default_alerts()):
            raise Conflict(f"'{alert.name}' is a built-in rule; choose another name.", details={"name": alert.name})
        if self.redis.hlen(self.keys.rules) >= MAX_CUSTOM_RULES:
            raise Conflict(f"There are already {MAX_CUSTOM_RULES} custom rules; delete one first.")
        created = self.redis.hsetnx(self.keys.rules, alert.name, json.dumps(alert.to_dict()))
        if not created:
            raise Conflict(f"A rule named '{alert.name}' exists; delete it first or choose another name.",
                           details={"name": alert.name})
        return alert

    def delete_alert(self, name: str) -> None:
        """Delete a custom rule (and its state). NotFound if unknown, Conflict for a built-in rule."""
        if any(a.name == name for a in default_alerts()):
            raise Conflict(f"'{name}' is a built-in rule and cannot be deleted.", details={"name": name})
        if not self.redis.hdel(self.keys.rules, name):
            raise NotFound(f"No custom alert rule named '{name}'.", details={"name": name})
        self.redis.hdel(self.keys.states, f"{self.model_name}/{name}")

    def list_alerts(self) -> list[Alert]:
        custom = [parse_alert({k: v for k, v in json.loads(raw).items() if k != "builtin"})
                  for raw in self.redis.hgetall(self.keys.rules).values()]
        return default_alerts() + sorted(custom, key=lambda a: a.name)

    def get_alert(self, name: str) -> Alert:
        for alert in self.list_alerts():
            if alert.name == name:
                return alert
        raise NotFound(f"No alert rule named '{name}'.", details={"name": name})

    # --- metric values ------------------------------------------------------------------------------------------
    def window_metrics(self, window_s: float, *, now: float | None = None,
                       names: set[str] | None = None) -> dict[str, Any]:
        """Metrics a rule can use over the last ``window_s`` seconds (drift: the latest scan); ``names`` limits the
        work to those metrics (the others are absent)."""
        now = time.time() if now is None else now
        wanted = set(METRICS) if names is None else names
        values: dict[str, Any] = {}
        if wanted & _LOG_METRICS:
            values.update(summarize_records(read_window(self.redis, self.key_prefix, self.model_name,
                                                        since=now - window_s, until=now)))
        if "accuracy" in wanted:
            outcomes = accuracy_by_version(self.redis, self.key_prefix, self.model_name, since=now - window_s,
                                           until=now)
            correct = sum(o["correct"] for o in outcomes.values())
            total = sum(o["total"] for o in outcomes.values())
            values["accuracy"] = correct / total if total else None
            values["feedback_count"] = total
        if wanted & {"drift_score", "prediction_drift"}:
            drift = latest_drift(self.redis, self.key_prefix, self.model_name)
            values["drift_score"] = drift["scores"]["feature"] if drift else None
            values["prediction_drift"] = drift["scores"]["prediction"] if drift else None
        return values

    # --- evaluation ---------------------------------------------------------------------------------------------
    def _state(self, name: str) -> RuleState:
        raw = self.redis.hget(self.keys.states, f"{self.model_name}/{name}")
        return RuleState.from_dict(json.loads(raw)) if raw else RuleState()

    def evaluate(self, *, now: float | None = None) -> list[dict[str, Any]]:
        """Evaluate every rule at ``now``; save states; record and (optionally) deliver transitions."""
        now = time.time() if now is None else now
        rules = self.list_alerts()
        needed: dict[float, set[str]] = {}
        for alert in rules:
            needed.setdefault(alert.window_seconds, set()).add(alert.metric_name)
        metrics = {window: self.window_metrics(window, now=now, names=names) for window, names in needed.items()}
        transitions: list[dict[str, Any]] = []
        pipe = self.redis.pipeline(transaction=False)
        for alert in rules:
            value = metrics[alert.window_seconds].get(alert.metric_name)
            before = self._state(alert.name)
            after = next_state(before, alert.holds(value), now=now, for_seconds=alert.for_seconds, value=value)
            pipe.hset(self.keys.states, f"{self.model_name}/{alert.name}", json.dumps(after.to_dict()))
            if after.state is not before.state:
                event = self._describe(alert, after)
                event["from"] = before.state.value
                transitions.append(event)
                pipe.lpush(self.keys.history, json.dumps(event))
        pipe.ltrim(self.keys.history, 0, MAX_HISTORY - 1)
        pipe.execute()
        deliverable = [t for t in transitions if t["state"] in (AlertState.FIRING.value, AlertState.RESOLVED.value)]
        if self.webhook_url and deliverable:
            deliver_webhook(self.webhook_url, alertmanager_payload(deliverable))
        return transitions

    def _describe(self, alert: Alert, state: RuleState) -> dict[str, Any]:
        return {"name": alert.name, "model_name": self.model_name, "metric_name": alert.metric_name,
                "condition": alert.condition, "threshold": alert.threshold, "severity": alert.severity,
                "state": state.state.value, "value": state.value,
                "message": alert.render(state.value, self.model_name) if state.value is not None else None,
                "active_since": state.active_since, "fired_at": state.fired_at, "resolved_at": state.resolved_at,
                "at": state.evaluated_at}

    def active_alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts of this model, firing first, with value, severity and rendered message."""
        active = []
        for alert in self.list_alerts():
            state = self._state(alert.name)
            if state.state in (AlertState.PENDING, AlertState.FIRING):
                active.append(self._describe(alert, state))
        return sorted(active, key=lambda a: (a["state"] != "firing", a["name"]))

    def history(self, limit: int = 100) -> list[dict[str, Any]]:
        """Recorded transitions of every model, newest first."""
        return [json.loads(raw) for raw in self.redis.lrange(self.keys.history, 0, max(limit, 1) - 1)]
