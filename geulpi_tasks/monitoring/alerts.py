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
from typing import Annotated, Any, Callable, Mapping

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.schemas import input_error

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


def _number(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PydanticCustomError("invalid_input", f"'{info.field_name}' must be a finite number.")
    low, high = _RANGES.get(str(info.field_name), (-math.inf, math.inf))
    if not low <= value <= high:
        raise PydanticCustomError("invalid_value", f"'{info.field_name}' must be between {low:g} and {high:g}.",
                                  {"step": "range"})
    return value


def _checked(test: Callable[[Any], bool], message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not test(value):
            raise PydanticCustomError("invalid_input", message)
        return value
    return check


def _read_only(value: Any) -> Any:
    raise PydanticCustomError("invalid_input", "Unknown field 'builtin'.")


_RANGES = {"window_seconds": (1.0, 7 * 86400.0), "for_seconds": (0.0, 86400.0)}
_SEVERITIES = tuple(s.value for s in Severity)
_FIELDS = ("name", "metric_name", "condition", "threshold", "window_seconds", "severity", "message_template",
           "for_seconds")
# The order rules are checked in: unknown fields, missing ones, each field's type, then ranges, then the rest.
_STEPS = ("name", "metric_name", "condition", "threshold", "window_seconds", "for_seconds", "window_seconds:range",
          "for_seconds:range", "severity", "message_template", "message_template:render")


class AlertRule(BaseModel):
    """An alert rule as ``POST /monitoring/alerts/rules`` takes it (and as every stored rule is checked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Any, BeforeValidator(_checked(
        lambda v: isinstance(v, str) and bool(_NAME.match(v)),
        "'name' must be 1-100 characters: letters, digits, '_', '.', ':' or '-'.")),
        WithJsonSchema({"type": "string", "pattern": _NAME.pattern})]
    metric_name: Annotated[Any, BeforeValidator(_checked(
        lambda v: isinstance(v, str) and v in METRICS, f"'metric_name' must be one of {', '.join(METRICS)}.")),
        WithJsonSchema({"type": "string", "enum": list(METRICS)})]
    condition: Annotated[Any, BeforeValidator(_checked(
        lambda v: isinstance(v, str) and v in CONDITIONS, f"'condition' must be one of {' '.join(CONDITIONS)}.")),
        WithJsonSchema({"type": "string", "enum": list(CONDITIONS)})]
    threshold: Annotated[Any, BeforeValidator(_number), WithJsonSchema({"type": "number"})]
    window_seconds: Annotated[Any, BeforeValidator(_number), WithJsonSchema(
        {"type": "number", "minimum": 1, "maximum": 604800, "default": 300})] = 300.0
    for_seconds: Annotated[Any, BeforeValidator(_number), WithJsonSchema(
        {"type": "number", "minimum": 0, "maximum": 86400, "default": 0,
         "description": "How long the condition must hold before pending becomes firing"})] = 0.0
    severity: Annotated[Any, BeforeValidator(_checked(
        lambda v: isinstance(v, str) and v in _SEVERITIES, "'severity' must be info, warning or critical.")),
        WithJsonSchema({"type": "string", "enum": list(_SEVERITIES), "default": "warning"})] = Severity.WARNING.value
    message_template: Annotated[Any, BeforeValidator(_checked(
        lambda v: isinstance(v, str) and 1 <= len(v) <= 500,
        "'message_template' must be a string of 1-500 characters.")), WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": 500,
         "description": "str.format fields: value, threshold, name, metric_name, condition, model_name, severity"})
    ] = "{name}: {metric_name} is {value:.4g} ({condition} {threshold:g})"
    # Read-only: shown in answers, never taken from a caller (refused like an unknown field).
    builtin: Annotated[Any, BeforeValidator(_read_only), WithJsonSchema({"type": "boolean", "readOnly": True})] = None

    @model_validator(mode="after")
    def _renders(self) -> AlertRule:
        try:
            self.message_template.format(value=0.5, threshold=self.threshold, name=self.name,
                                         metric_name=self.metric_name, condition=self.condition,
                                         model_name="model", severity=self.severity)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as err:
            raise PydanticCustomError(
                "invalid_value", f"'message_template' cannot be rendered ({type(err).__name__}: {err}); use the "
                "fields value, threshold, name, metric_name, condition, model_name, severity.",
                {"field": "message_template", "step": "render"}) from None
        return self


def _step(problem: Any) -> tuple[int, str]:
    loc, ctx = problem["loc"], problem.get("ctx") or {}
    if problem["type"] == "extra_forbidden" or tuple(loc) == ("builtin",):
        return (0, str(loc[0]))
    if problem["type"] == "missing":
        return (1, f"{_FIELDS.index(str(loc[0])):02d}")
    key = str(ctx.get("field") or (loc[0] if loc else ""))
    key += f":{ctx['step']}" if "step" in ctx else ""
    return (2 + (_STEPS.index(key) if key in _STEPS else len(_STEPS)), key)


def validate_alert(alert: Alert) -> None:
    """Raise InvalidInput/InvalidValue naming the field when a rule cannot be evaluated (checked by ``AlertRule``)."""
    rule = {k: getattr(alert, k) for k in _FIELDS}
    try:
        AlertRule.model_validate(rule)
    except ValidationError as err:
        raise _alert_error(err) from None


def _alert_error(err: ValidationError) -> InvalidInput:
    first = min(err.errors(include_url=False), key=_step)
    if first["type"] == "extra_forbidden" or tuple(first["loc"]) == ("builtin",):
        unknown = str(first["loc"][0])
        return InvalidInput(f"Unknown field '{unknown}'; allowed: {', '.join(_FIELDS)}.", field=unknown)
    return input_error(err, rank=_step)


def parse_alert(payload: Any) -> Alert:
    """An ``Alert`` from a JSON object, checked by ``AlertRule``; InvalidInput/InvalidValue name the field."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("The alert rule must be a JSON object.", field="body")
    try:
        AlertRule.model_validate(payload)
    except ValidationError as err:
        raise _alert_error(err) from None
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
