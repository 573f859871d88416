"""The API's own shapes (accepted work, task status, health, the error envelope) and the OpenAPI components made
from every pydantic model the API takes or answers with: each is declared once, as a model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from geulpi_tasks.feedback import Feedback, FeedbackRequest
from geulpi_tasks.monitoring.alerts import AlertRule
from geulpi_tasks.schemas import CalendarEvent, Classification, ClassificationBatch, Event, EventBatch
from geulpi_tasks.training.request import TrainingRequestBody

REF = "#/components/schemas/{model}"


class Accepted(BaseModel):
    """Work accepted for later (202): poll ``statusUrl`` (also the ``Location`` header)."""

    taskId: str  # noqa: N815 - the wire's names
    state: str
    statusUrl: str  # noqa: N815


class TrainingAccepted(BaseModel):
    """A training job accepted (202): ``jobId`` is the task id to poll at ``statusUrl``."""

    jobId: str  # noqa: N815
    taskId: str | None = None  # noqa: N815
    state: str | None = None
    statusUrl: str  # noqa: N815


class TaskStatus(BaseModel):
    """State, progress and result (or error) of work accepted with 202."""

    taskId: str  # noqa: N815
    state: Literal["PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]
    ready: bool
    result: Any = None
    progress: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class Health(BaseModel):
    status: str
    checks: dict[str, Any]
    warnings: Annotated[list[str] | None, Field(description="e.g. an evicting Redis maxmemory-policy")] = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class Error(BaseModel):
    """Every error answer: ``{"error": {"code", "message", "details"}}``; ``details.field`` names a bad field."""

    error: ErrorDetail


class ModelVersion(BaseModel):
    """One registered version, as ``GET /models/<name>/versions`` lists it."""

    version: str
    stage: Literal["None", "Staging", "Production", "Archived"]
    created_at: datetime
    metrics: dict[str, float]
    run_id: str | None
    description: str
    semver: Annotated[str | None, Field(examples=["1.2.0"])]
    aliases: list[str] | None = None


class ModelVersions(BaseModel):
    model_name: str
    versions: list[ModelVersion]


class Promotion(BaseModel):
    """A stage change (or ``changed: false`` when the version was already there)."""

    model_name: str
    version: str
    stage: str
    previous_stage: str
    changed: bool
    archived: list[str] | None = None
    previous_production: str | None = None


class Rollback(BaseModel):
    model_name: str
    from_version: str
    to_version: str
    stage: str | None = None
    archived: list[str] | None = None


class Comparison(BaseModel):
    """Both versions evaluated now on the same held-out events and feedback, and the one recommended."""

    model_name: str
    version_a: str
    version_b: str
    evaluation: dict[str, Any] | None = None
    metrics: Annotated[dict[str, dict[str, Any]], Field(description="Held-out metrics per version, measured now")]
    difference: dict[str, Any] | None = None
    production_version: str | None = None
    recommended_version: str
    reason: str


# Requests are documented as validated, answers as serialised.
REQUESTS: tuple[type[BaseModel], ...] = (Event, CalendarEvent, EventBatch, FeedbackRequest, AlertRule,
                                         TrainingRequestBody)
ANSWERS: tuple[type[BaseModel], ...] = (Classification, ClassificationBatch, Feedback, Accepted, TrainingAccepted,
                                        TaskStatus, Health, Error, ModelVersion, ModelVersions, Promotion, Rollback,
                                        Comparison)


class _OpenApiSchema(GenerateJsonSchema):
    """JSON Schema as OpenAPI 3.1 shows it: no generated titles on properties."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def model_components() -> dict[str, Any]:
    """components/schemas for every model: requests as validated, answers as serialised."""
    modes: list[tuple[type[BaseModel], Any]] = [(model, "validation") for model in REQUESTS]
    modes += [(model, "serialization") for model in ANSWERS]
    _, document = models_json_schema(modes, ref_template=REF, schema_generator=_OpenApiSchema)
    components = dict(document.get("$defs", {}))
    for schema in components.values():
        for prop in schema.get("properties", {}).values():
            if "default" in prop and prop["default"] is None and not _allows_null(prop):
                del prop["default"]  # a null default the field's own schema refuses would only mislead
    return components


def _allows_null(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    return ("null" in kinds if isinstance(kinds, list) else kinds == "null") or any(
        _allows_null(option) for option in schema.get("anyOf", []))
