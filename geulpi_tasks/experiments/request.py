"""The A/B experiment create request (``POST /experiments/create``), declared once: ``ExperimentRequest`` checks each
field (in the order below, a variant's problems named ``variants[1].version``) and is the OpenAPI schema."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.experiments import statistics as st
from geulpi_tasks.experiments.store import Experiment, Variant
from geulpi_tasks.schemas import MAX_MODEL_VERSION, input_error

DEFAULT_SUCCESS_METRICS = {"success_rate": {"threshold": 0.95, "weight": 1.0}}
_ORDER = ("name", "description", "model_type", "variants", "duration_hours", "success_metrics", "auto_promote")


def _fail(message: str, *, contradiction: bool = False, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("invalid_value" if contradiction else "invalid_input", message, context or None)


def _require(payload: dict[str, Any], key: str, kinds: tuple[type, ...], what: str, field: str) -> Any:
    if payload.get(key) is None:
        raise _fail(f"'{field}' is required ({what}).", field=field)
    value = payload[key]
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        raise _fail(f"'{field}' must be {what}.", field=field)
    return value


def _number(payload: dict[str, Any], key: str, field: str) -> float:
    value = float(_require(payload, key, (int, float), "a number", field))
    if not math.isfinite(value):
        raise _fail(f"'{field}' must be a finite number.", field=field)
    return value


def _name(value: Any) -> str:
    name = _require({"name": value}, "name", (str,), "a non-empty string", "name").strip()
    if not name or len(name) > 200:
        raise _fail("'name' must be 1 to 200 characters.")
    return str(name)


def _description(value: Any) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise _fail("'description' must be a string.")
    return value


def _model_type(value: Any) -> str:
    model_type = _require({"model_type": value}, "model_type", (str,), "a registered model name", "model_type").strip()
    if not model_type:
        raise _fail("'model_type' must name a registered model.")
    return str(model_type)


def _variants(value: Any) -> list[Variant]:
    raw_variants = _require({"variants": value}, "variants", (list,), "a list of {name, version, traffic_percentage}",
                            "variants")
    if len(raw_variants) < 2:
        raise _fail("An experiment needs at least 2 variants.", contradiction=True)
    variants: list[Variant] = []
    for i, raw in enumerate(raw_variants):
        path = f"variants[{i}]"
        if not isinstance(raw, dict):
            raise _fail(f"'{path}' must be an object {{name, version, traffic_percentage}}.", field=path)
        v_name = _require(raw, "name", (str,), "a non-empty string", f"{path}.name").strip()
        if not v_name or len(v_name) > 100 or ":" in v_name:
            raise _fail(f"'{path}.name' must be 1 to 100 characters without ':'.", field=f"{path}.name")
        version = str(_require(raw, "version", (str, int), "a model version", f"{path}.version")).strip()
        if not version.isdigit() or int(version) > MAX_MODEL_VERSION:
            raise _fail(f"'{path}.version' must be a registry version number such as \"2\".",
                        field=f"{path}.version")
        pct = _number(raw, "traffic_percentage", f"{path}.traffic_percentage")
        if not 0 < pct <= 100:
            raise _fail(f"'{path}.traffic_percentage' must be above 0 and at most 100.", contradiction=True,
                        field=f"{path}.traffic_percentage")
        variants.append(Variant(name=v_name, version=version, traffic_percentage=pct))
    names = [v.name for v in variants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(f"Variant names must be unique; repeated: {', '.join(duplicates)}.", contradiction=True,
                    details={"duplicates": duplicates})
    total = sum(v.traffic_percentage for v in variants)
    if abs(total - 100.0) > 1e-6:
        raise _fail(f"Traffic percentages must sum to 100, not {total:g}.", contradiction=True,
                    details={"sum": total})
    return variants


def _duration(value: Any) -> float:
    duration = _number({"duration_hours": value}, "duration_hours", "duration_hours")
    if not 0 < duration <= 24 * 365:
        raise _fail("'duration_hours' must be above 0 and at most one year.", contradiction=True)
    return duration


def _success_metrics(value: Any) -> dict[str, dict[str, float]]:
    raw_metrics = DEFAULT_SUCCESS_METRICS if value is None else value
    if not isinstance(raw_metrics, dict) or not raw_metrics:
        raise _fail("'success_metrics' must be an object {metric: {threshold, weight}}.")
    metrics: dict[str, dict[str, float]] = {}
    for metric, spec in raw_metrics.items():
        path = f"success_metrics.{metric}"
        if metric not in st.METRICS:
            raise _fail(f"Unknown metric '{metric}'; known: {', '.join(st.METRICS)}.", field=path,
                        details={"known": list(st.METRICS)})
        if not isinstance(spec, dict):
            raise _fail(f"'{path}' must be an object {{threshold, weight}}.", field=path)
        threshold = _number(spec, "threshold", f"{path}.threshold")
        weight = _number(spec, "weight", f"{path}.weight")
        if weight <= 0:
            raise _fail(f"'{path}.weight' must be above 0.", contradiction=True, field=f"{path}.weight")
        metrics[metric] = {"threshold": threshold, "weight": weight}
    return metrics


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail("'auto_promote' must be true or false.")
    return value


def _required() -> Any:
    return Field(default=None, validate_default=True)  # a missing field gets its own check's message


class ExperimentRequest(BaseModel):
    """An A/B experiment between registered versions (the seed's shape); unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={
        "required": ["name", "model_type", "variants", "duration_hours"]})

    name: Annotated[str, BeforeValidator(_name), WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": 200})] = _required()
    description: Annotated[str, BeforeValidator(_description), WithJsonSchema({"type": "string"})] = ""
    model_type: Annotated[str, BeforeValidator(_model_type), WithJsonSchema(
        {"type": "string", "examples": ["event_classifier"]})] = _required()
    variants: Annotated[Any, BeforeValidator(_variants), WithJsonSchema({
        "type": "array", "minItems": 2, "items": {
            "type": "object", "required": ["name", "version", "traffic_percentage"], "properties": {
                "name": {"type": "string", "pattern": "^\\s*[^:\\s][^:]{0,99}$"},
                "version": {"anyOf": [{"type": "string", "pattern": "^\\s*0*[0-9]{1,18}\\s*$"},
                                      {"type": "integer", "minimum": 0, "maximum": MAX_MODEL_VERSION}]},
                "traffic_percentage": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}}},
        "description": "Unique names; percentages sum to 100; the first variant is the control"})] = _required()
    duration_hours: Annotated[float, BeforeValidator(_duration), WithJsonSchema(
        {"type": "number", "exclusiveMinimum": 0})] = _required()
    success_metrics: Annotated[Any, BeforeValidator(_success_metrics), WithJsonSchema({
        "type": "object", "description": "metric -> {threshold, weight}; metrics: "
                                         f"{', '.join(st.METRICS)}",
        "additionalProperties": {"type": "object", "required": ["threshold", "weight"],
                                 "properties": {"threshold": {"type": "number"}, "weight": {"type": "number"}}}})
    ] = Field(default=None, validate_default=True)
    auto_promote: Annotated[bool, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "default": False, "description": "When Beat stops it at the end, promote a declared "
                                                             "winner through the registry's promotion gates"})] = False

    def to_experiment(self, now: float) -> Experiment:
        return Experiment(experiment_id=uuid.uuid4().hex[:12], name=self.name, description=self.description,
                          model_type=self.model_type, variants=list(self.variants),
                          duration_hours=self.duration_hours, success_metrics=dict(self.success_metrics),
                          created_at=now, extra={"auto_promote": self.auto_promote})


def parse_experiment(payload: Any, *, now: float) -> Experiment:
    """Validate a create request (seed shape) into an Experiment. InvalidInput/InvalidValue name the field."""
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.", field="body")
    try:
        request = ExperimentRequest.model_validate(payload)
    except ValidationError as err:
        raise input_error(err, order=_ORDER) from None
    return request.to_experiment(now)
