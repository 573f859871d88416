"""Alert rules and their Prometheus-like life cycle: inactive → pending → firing → resolved.

A rule's condition is checked over its window at each evaluation. When it starts to hold the alert is *pending*;
once it has held for ``for_seconds`` it is *firing*; when it stops holding a firing alert is *resolved* (a pending
one simply goes back to inactive, as in Prometheus). No data in the window means "does not hold".
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Mapping

from geulpi_tasks.errors import InvalidInput, InvalidValue

METRICS: dict[str, str] = {
    "success_rate": "Share of predictions that succeeded in the window (0..1).",
    "error_rate": "Share of predictions that failed in the window (0..1).",
    "avg_latency_ms": "Mean model latency of successful predictions in the window (ms).",
    "p95_latency_ms": "95th percentile model latency in the window (ms).",
    "prediction_count": "Predictions (successful or not) in the window.",
    "accuracy": "Share of feedback answers in the window that agreed with the model (0..1).",
    "drift_score": "Share of drifted features in the latest drift scan (0..1).",
    "prediction_drift": "Jensen-Shannon distance of the predicted class mix in the latest scan (0..1).",
}
CONDITIONS = ("<", "<=", ">", ">=", "==", "!=")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$")


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(str, Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert rule (the seed's ``Alert``). ``for_seconds``: how long the condition must hold before firing."""

    name: str
    metric_name: str
    condition: str
    threshold: float
    window_seconds: float = 300.0
    severity: str = Severity.WARNING.value
    message_template: str = "{name}: {metric_name} is {value:.4g} ({condition} {threshold:g})"
    for_seconds: float = 0.0
    builtin: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        validate_alert(self)

    def holds(self, value: float | None) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return {"<": value < self.threshold, "<=": value <= self.threshold, ">": value > self.threshold,
                ">=": value >= self.threshold, "==": value == self.threshold,
                "!=": value != self.threshold}[self.condition]

    def render(self, value: float, model_name: str) -> str:
        return self.message_template.format(value=value, threshold=self.threshold, name=self.name,
                                            metric_name=self.metric_name, condition=self.condition,
                                            model_name=model_name, severity=self.severity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_alert(alert: Alert) -> None:
    """Raise InvalidInput/InvalidValue naming the field when a rule cannot be evaluated."""
    if not isinstance(alert.name, str) or not _NAME.match(alert.name):
        raise InvalidInput("'name' must be 1-100 characters: letters, digits, '_', '.', ':' or '-'.", field="name")
    if not isinstance(alert.metric_name, str) or alert.metric_name not in METRICS:
        raise InvalidInput(f"'metric_name' must be one of {', '.join(METRICS)}.", field="metric_name")
    if not isinstance(alert.condition, str) or alert.condition not in CONDITIONS:
        raise InvalidInput(f"'condition' must be one of {' '.join(CONDITIONS)}.", field="condition")
    for name in ("threshold", "window_seconds", "for_seconds"):
        value = getattr(alert, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"'{name}' must be a finite number.", field=name)
    if not 1 <= alert.window_seconds <= 7 * 86400:
        raise InvalidValue("'window_seconds' must be between 1 and 604800.", field="window_seconds")
    if not 0 <= alert.for_seconds <= 86400:
        raise InvalidValue("'for_seconds' must be between 0 and 86400.", field="for_seconds")
    if not isinstance(alert.severity, str) or alert.severity not in {s.value for s in Severity}:
        raise InvalidInput("'severity' must be info, warning or critical.", field="severity")
    if not isinstance(alert.message_template, str) or not 1 <= len(alert.message_template) <= 500:
        raise InvalidInput("'message_template' must be a string of 1-500 characters.", field="message_template")
    try:
        alert.render(0.5, "model")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as err:
        raise InvalidValue(f"'message_template' cannot be rendered ({type(err).__name__}: {err}); use the fields "
                           "value, threshold, name, metric_name, condition, model_name, severity.",
                           field="message_template") from err


_FIELDS = ("name", "metric_name", "condition", "threshold", "window_seconds", "severity", "message_template",
           "for_seconds")


def parse_alert(payload: Any) -> Alert:
    """An ``Alert`` from a JSON object; InvalidInput/InvalidValue name the offending field."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("The alert rule must be a JSON object.", field="body")
    unknown = sorted(set(payload) - set(_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field '{unknown[0]}'; allowed: {', '.join(_FIELDS)}.", field=unknown[0])
    for required in ("name", "metric_name", "condition", "threshold"):
        if required not in payload:
            raise InvalidInput(f"'{required}' is required.", field=required)
    return Alert(**{k: payload[k] for k in _FIELDS if k in payload})


def default_alerts() -> list[Alert]:
    """The seed's default rules (also shipped as deploy/prometheus/rules.yml)."""
    return [
        Alert("low_success_rate", "success_rate", "<", 0.95, window_seconds=300, severity="critical",
              message_template="Success rate of {model_name} is {value:.2%} (below {threshold:.0%})",
              for_seconds=120, builtin=True),
        Alert("high_latency", "avg_latency_ms", ">", 100.0, window_seconds=300, severity="warning",
              message_template="Average latency of {model_name} is {value:.1f} ms (above {threshold:g} ms)",
              for_seconds=120, builtin=True),
        Alert("model_drift", "drift_score", ">", 0.15, window_seconds=3600, severity="warning",
              message_template="Drift score of {model_name} is {value:.2f} (above {threshold:g})",
              for_seconds=0, builtin=True),
    ]


@dataclass(frozen=True)
class RuleState:
    state: AlertState = AlertState.INACTIVE
    active_since: float | None = None   # when the condition started to hold (pending/firing)
    fired_at: float | None = None
    resolved_at: float | None = None
    value: float | None = None
    evaluated_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state.value}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "RuleState":
        return cls(**{**raw, "state": AlertState(raw["state"])})


def next_state(current: RuleState, holds: bool, *, now: float, for_seconds: float,
               value: float | None) -> RuleState:
    """The rule's state after one evaluation at ``now`` (pure: no clock, no I/O)."""
    if holds:
        if current.state in (AlertState.INACTIVE, AlertState.RESOLVED):
            current = RuleState(AlertState.PENDING, active_since=now)
        if current.state is AlertState.PENDING and now - (current.active_since or now) >= for_seconds:
            current = replace(current, state=AlertState.FIRING, fired_at=now)
        return replace(current, value=value, evaluated_at=now)
    if current.state is AlertState.FIRING:
        return replace(current, state=AlertState.RESOLVED, resolved_at=now, value=value, evaluated_at=now)
    if current.state is AlertState.PENDING:
        return RuleState(AlertState.INACTIVE, value=value, evaluated_at=now)
    return replace(current, value=value, evaluated_at=now)
