"""The training request (``POST /models/train`` body): parsed and checked here, with no ML imports, so the API can
answer 400 before anything is enqueued and the task can parse the same body again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import CATEGORIES, Event, Priority, input_error, parse_event

MODEL_TYPES = ("event_classifier", "priority_classifier")
SEARCH_FAMILIES = ("logistic", "random_forest", "xgboost")
# Measured on the realistic dev sets: a logistic stage 2 matched or beat the forest and is calibrated better.
DEFAULT_FAMILIES = ("logistic", "random_forest")
PRUNERS = ("median", "successive_halving", "none")
TRIGGERS = ("api", "nightly", "cli")
MAX_TRIALS = 500
MAX_PARALLELISM = 16
MAX_BUDGET_MINUTES = 240.0
MIN_ROWS = 60
MAX_ROWS = 200_000


@dataclass(frozen=True)
class TrainingRequest:
    model_type: str
    optimize: bool = True
    auto_promote: bool = False
    n_optimization_trials: int = 20
    description: str = ""
    training_data: tuple[dict[str, Any], ...] | None = None
    n_samples: int | None = None
    families: tuple[str, ...] = DEFAULT_FAMILIES
    multi_objective: bool = False
    pruner: str = "median"
    parallelism: int = 1
    automl: bool = False
    time_budget_minutes: float = 2.0
    prune_trees: bool = False
    prune_tolerance: float = 0.005
    include_feedback: bool = True
    # Hand-labelled realistic dev rows join the training data (a stable share is held out for the gates).
    include_realistic: bool = True
    seed: int | None = None
    trigger: str = "api"

    @property
    def label_key(self) -> str:
        return "category" if self.model_type == "event_classifier" else "priority"

    @property
    def classes(self) -> tuple[str, ...]:
        return CATEGORIES if self.model_type == "event_classifier" else tuple(p.value for p in Priority)


def _fail(message: str, *, contradiction: bool = False, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("invalid_value" if contradiction else "invalid_input", message, context or None)


def _flag(value: Any, info: ValidationInfo) -> bool:
    if not isinstance(value, bool):
        raise _fail(f"'{info.field_name}' must be true or false.")
    return value


def _integer(lo: int, hi: int) -> Callable[[Any, ValidationInfo], int | None]:
    def check(value: Any, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _fail(f"'{info.field_name}' must be an integer from {lo} to {hi}.")
        return value
    return check


def _number_in(lo: float, hi: float, *, open_lo: bool = False) -> Callable[[Any, ValidationInfo], float]:
    def check(value: Any, info: ValidationInfo) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or value > hi or value < lo or (open_lo and value == lo):
            interval = f"{'(' if open_lo else '['}{lo:g}, {hi:g}]"
            raise _fail(f"'{info.field_name}' must be a number in {interval}.")
        return float(value)
    return check


def _model_type(value: Any) -> str:
    if value not in MODEL_TYPES:
        raise _fail(f"Unknown 'model_type' {value!r}; use one of {', '.join(MODEL_TYPES)}.", code="unknown_model_type")
    return str(value)


def _description(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise _fail("'description' must be a string of at most 2000 characters.")
    return value


def _families(value: Any) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value or any(f not in SEARCH_FAMILIES for f in value)
            or len(set(value)) != len(value)):
        raise _fail(f"'families' must be a non-empty list drawn from {', '.join(SEARCH_FAMILIES)}.")
    return tuple(value)


def _one_of(options: tuple[str, ...], message: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _fail(message)
        return str(value)
    return check


def _rows(value: Any, info: ValidationInfo) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _fail("'training_data' must be a list of labelled events.")
    if not MIN_ROWS <= len(value) <= MAX_ROWS:
        raise _fail(f"'training_data' must hold {MIN_ROWS} to {MAX_ROWS} events, not {len(value)}.")
    model_type = info.data.get("model_type")
    if model_type is None:  # model_type itself is the problem, reported first
        return None
    label = "category" if model_type == "event_classifier" else "priority"
    allowed = CATEGORIES if label == "category" else tuple(p.value for p in Priority)
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise _fail("Each training event must be a JSON object.", field=f"training_data[{i}]")
        try:
            parse_event(row)
        except InvalidInput as err:
            raise _fail(err.message, contradiction=isinstance(err, InvalidValue),
                        field=f"training_data[{i}].{err.field or 'event'}") from None
        if row.get(label) not in allowed:
            raise _fail(f"'{label}' must be one of {', '.join(allowed)}.", field=f"training_data[{i}].{label}")
    if len({row[label] for row in value}) < 2:
        raise _fail("'training_data' needs at least two different labels.", contradiction=True)
    return tuple(value)


class TrainingRequestBody(BaseModel):
    """The body of ``POST /models/train``, checked field by field in the order below; null means the default for the
    integers, unknown fields are refused (400, ``unknown_field``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "required": ["model_type"], "description": "Unknown fields are refused (400); null means the default"})

    model_type: Annotated[str, BeforeValidator(_model_type), WithJsonSchema(
        {"type": "string", "enum": list(MODEL_TYPES)})] = Field(default=None, validate_default=True)
    description: Annotated[str, BeforeValidator(_description), WithJsonSchema(
        {"type": "string", "maxLength": 2000})] = ""
    families: Annotated[tuple[str, ...], BeforeValidator(_families), WithJsonSchema({
        "type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "enum": list(SEARCH_FAMILIES)},
        "default": list(DEFAULT_FAMILIES),
        "description": "Stage-2 model families the search may pick from; [\"xgboost\"] forces XGBoost. The winning "
                       "family is registered and served (ONNX Runtime) and named in the version's params "
                       "(stage2_family)"})] = DEFAULT_FAMILIES
    pruner: Annotated[str, BeforeValidator(_one_of(PRUNERS, f"'pruner' must be one of {', '.join(PRUNERS)}.")),
                      WithJsonSchema({"type": "string", "enum": list(PRUNERS), "default": "median"})] = "median"
    trigger: Annotated[str, BeforeValidator(_one_of(TRIGGERS, "'trigger' must be api, nightly or cli.")),
                       WithJsonSchema({"type": "string", "enum": list(TRIGGERS), "description": "Recorded with the "
                                       "job; always 'api' for jobs started over HTTP"})] = "api"
    optimize: Annotated[bool, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "default": True, "description": "Optuna search over the stage-2 model"})] = True
    auto_promote: Annotated[bool, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "default": False,
         "description": "Staging always; Production only when the held-out gates pass"})] = False
    n_optimization_trials: Annotated[int | None, BeforeValidator(_integer(1, MAX_TRIALS)), WithJsonSchema(
        {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TRIALS, "default": 20})] = 20
    training_data: Annotated[Any, PlainValidator(_rows, json_schema_input_type=list[Event] | None), Field(
        description="Labelled events (category, or priority for priority_classifier); default: generated events "
                    "plus user feedback", json_schema_extra={"minItems": MIN_ROWS, "maxItems": MAX_ROWS})] = None
    n_samples: Annotated[int | None, BeforeValidator(_integer(300, MAX_ROWS)), WithJsonSchema(
        {"type": ["integer", "null"], "minimum": 300, "maximum": MAX_ROWS,
         "description": "Generated events when no training_data is sent"})] = None
    multi_objective: Annotated[bool, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "default": False,
         "description": "Optimise accuracy, latency and size; the result lists the Pareto front"})] = False
    parallelism: Annotated[int | None, BeforeValidator(_integer(1, MAX_PARALLELISM)), WithJsonSchema(
        {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_PARALLELISM, "default": 1,
         "description": "Training workers sharing the Optuna study (journal storage on Redis)"})] = 1
    automl: Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean", "default": False})] = False
    time_budget_minutes: Annotated[float, BeforeValidator(_number_in(0.0, MAX_BUDGET_MINUTES, open_lo=True)),
                                   WithJsonSchema({"type": "number", "exclusiveMinimum": 0,
                                                   "maximum": MAX_BUDGET_MINUTES, "default": 2})] = 2.0
    prune_trees: Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean", "default": False})] = False
    prune_tolerance: Annotated[float, BeforeValidator(_number_in(0.0, 0.1)), WithJsonSchema(
        {"type": "number", "minimum": 0, "maximum": 0.1, "default": 0.005})] = 0.005
    include_feedback: Annotated[bool, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "default": True})] = True
    # Off by default when the caller sends its own rows: then it chose the data.
    include_realistic: Annotated[bool | None, BeforeValidator(_flag), WithJsonSchema(
        {"type": "boolean", "description": "Hand-labelled realistic dev rows join the training data (default: true "
                                           "unless training_data is sent)"})] = None
    seed: Annotated[int | None, BeforeValidator(_integer(0, 2**31 - 1)), WithJsonSchema(
        {"type": ["integer", "null"], "minimum": 0, "maximum": 2**31 - 1})] = None

    @model_validator(mode="after")
    def _consistent(self) -> TrainingRequestBody:
        if self.automl and self.multi_objective:
            raise _fail("'automl' and 'multi_objective' cannot be combined; choose one.", contradiction=True,
                        field="automl")
        if (self.parallelism or 1) > (self.n_optimization_trials or 20):
            raise _fail("'parallelism' cannot exceed 'n_optimization_trials'.", contradiction=True,
                        field="parallelism")
        return self

    def to_request(self) -> TrainingRequest:
        return TrainingRequest(
            model_type=self.model_type, optimize=self.optimize, auto_promote=self.auto_promote,
            n_optimization_trials=self.n_optimization_trials or 20, description=self.description,
            training_data=self.training_data, n_samples=self.n_samples, families=self.families,
            multi_objective=self.multi_objective, pruner=self.pruner, parallelism=self.parallelism or 1,
            automl=self.automl, time_budget_minutes=self.time_budget_minutes, prune_trees=self.prune_trees,
            prune_tolerance=self.prune_tolerance, include_feedback=self.include_feedback,
            include_realistic=self.training_data is None if self.include_realistic is None
            else self.include_realistic, seed=self.seed, trigger=self.trigger)


# The order the fields were always checked in (a problem in an earlier one is the one reported).
_CHECK_ORDER = ("model_type", "description", "families", "pruner", "trigger", "optimize", "auto_promote",
                "n_optimization_trials", "training_data", "n_samples", "multi_objective", "parallelism", "automl",
                "time_budget_minutes", "prune_trees", "prune_tolerance", "include_feedback", "include_realistic",
                "seed")


def _step(problem: Any) -> tuple[int, str]:
    loc, ctx = problem["loc"], problem.get("ctx") or {}
    if problem["type"] == "extra_forbidden":
        return (0, str(loc[0]))
    head = str(loc[0]) if loc else ""
    if not loc:  # a check across fields runs only once every field passed
        return (2 + len(_CHECK_ORDER), str(ctx.get("field", "")))
    return (1 + (_CHECK_ORDER.index(head) if head in _CHECK_ORDER else len(_CHECK_ORDER)), head)


def parse_training_request(body: Any) -> TrainingRequest:
    """A checked ``TrainingRequest`` (through ``TrainingRequestBody``); InvalidInput names the offending field."""
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    try:
        parsed = TrainingRequestBody.model_validate(body)
    except ValidationError as err:
        first = min(err.errors(include_url=False), key=_step)
        if first["type"] == "extra_forbidden":
            # Unknown fields are refused, not ignored: in particular a model path or artifact URI, since models
            # are trained from data and served only from the registry.
            unknown = str(first["loc"][0])
            raise InvalidInput(f"Unknown field '{unknown}' in the training request; models are trained from data "
                               "and loaded only from the registry, never from a path or URI.", field=unknown,
                               code="unknown_field") from None
        raise input_error(err, rank=_step) from None
    return parsed.to_request()
