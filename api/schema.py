"""The API's own shapes (accepted work, task status, health, the error envelope) and the OpenAPI components made
from every pydantic model the API takes or answers with: each is declared once, as a model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from geulpi_tasks.analyses.balance import BalanceRequestBody
from geulpi_tasks.analyses.burnout import BurnoutRequestBody
from geulpi_tasks.analyses.optimizer import ScheduleRequestBody
from geulpi_tasks.analyses.patterns import PatternsRequestBody
from geulpi_tasks.experiments.request import ExperimentRequest
from geulpi_tasks.feedback import Feedback, FeedbackRequest
from geulpi_tasks.monitoring.alerts import AlertRule
from geulpi_tasks.schemas import CalendarEvent, Classification, ClassificationBatch, Event, EventBatch
from geulpi_tasks.shadow.lifecycle import ShadowRequest
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


class ApprovalDecisionBody(BaseModel):
    """Optional body of approving or rejecting a promotion request."""

    reason: Annotated[str | None, Field(max_length=500, description="Why (kept with the request)")] = None


class PromotionApproval(BaseModel):
    """A request to promote a version to Production (GEULPI_REQUIRE_APPROVAL) and the evidence to decide it."""

    approval_id: str
    model_name: str
    version: str
    state: Literal["pending", "approved", "rejected", "expired"]
    requested_by: Annotated[str, Field(description="Audit id of the requester: key:<12 hex>, local:<user>, job:<id>")]
    requested_at: datetime
    expires_at: datetime
    source: Annotated[str, Field(description="api, cli, training or experiment")]
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    evidence: Annotated[dict[str, Any], Field(description="gates, metrics (realistic sets), production_version, "
                                                          "comparison (compare against production), shadow")]
    promotion: Annotated[Promotion | None, Field(description="The stage change, once approved")] = None


class PromotionApprovals(BaseModel):
    model_name: str
    approvals: list[PromotionApproval]
    count: int


class AlertStatus(BaseModel):
    """A rule's state as the alert endpoints and the dashboard show it."""

    name: str | None = None
    model_name: str | None = None
    metric_name: str | None = None
    condition: str | None = None
    threshold: float | None = None
    severity: str | None = None
    state: Literal["inactive", "pending", "firing", "resolved"] | None = None
    value: float | None = None
    message: str | None = None
    active_since: float | None = None
    fired_at: float | None = None
    resolved_at: float | None = None
    at: float | None = None


class DashboardStatistics(BaseModel):
    total_predictions: int | None = None
    success_rate: float | None = None
    avg_latency_ms: float | None = None
    recent_accuracy: Annotated[float | None, Field(description="From feedback; null without any")] = None
    feedback_count: int | None = None
    window_hours: int | None = None


class HourlyPoint(BaseModel):
    hour: str | None = None
    predictions: int | None = None
    success_rate: float | None = None
    avg_latency_ms: float | None = None


class PerformanceTrend(BaseModel):
    trend: Literal["improving", "stable", "degrading", "insufficient_data"] | None = None
    hourly_data: list[HourlyPoint] | None = None


class ConfidentCorrections(BaseModel):
    """Per answered class: feedback on answers given with confidence >= threshold, and the share users corrected."""

    threshold: float | None = None
    per_class: dict[str, Any] | None = None


class Dashboard(BaseModel):
    """``GET /monitoring/dashboard/<model>``: version, health, statistics, hourly trend, alerts, drift, quality."""

    model_name: str
    current_version: str | None
    health_status: Literal["healthy", "degraded", "unhealthy", "no_data"]
    statistics: DashboardStatistics
    performance_trend: PerformanceTrend
    active_alerts: list[AlertStatus]
    drift_detected: Annotated[bool | None, Field(description="null before the first drift scan")]
    drift: dict[str, Any] | None = None
    quality: Annotated[dict[str, Any] | None, Field(
        description="The serving version's logged figures: realistic_dev (hand-labelled holdout, decides "
                    "promotion), realistic_test (frozen, reported only), generator")] = None
    confident_corrections: ConfidentCorrections | None = None
    importance: Annotated[dict[str, Any] | None, Field(
        description="The serving version's global importance: the features that most drive each class")] = None
    cost: Annotated[dict[str, Any] | None, Field(
        description="CPU-ms per 1000 predictions and events/s per core, overall, per version and per task kind")] = None


class Experiment(BaseModel):
    experimentId: str | None = None  # noqa: N815 - the wire's names
    name: str | None = None
    description: str | None = None
    modelType: str | None = None  # noqa: N815
    status: Literal["running", "stopped"] | None = None
    variants: list[dict[str, Any]] | None = None
    durationHours: float | None = None  # noqa: N815
    successMetrics: dict[str, Any] | None = None  # noqa: N815
    createdAt: str | None = None  # noqa: N815
    endsAt: str | None = None  # noqa: N815
    stoppedAt: str | None = None  # noqa: N815
    stopReason: str | None = None  # noqa: N815


class ExperimentResults(BaseModel):
    """Live or final per-variant figures, the always-valid decision and the fixed-horizon tests."""

    experiment: Experiment
    offline_quality: Annotated[dict[str, dict[str, Any]] | None, Field(
        description="Per variant: its version's logged figures on hand-labelled events (realistic_dev, "
                    "realistic_test) beside the generator's")] = None
    variants: Annotated[dict[str, dict[str, Any]], Field(
        description="Per variant: exposures, successes, failures, latencyMs {mean, p50, p95}, feedback accuracy, "
                    "weighted score and per-metric pass/fail")]
    decision: Annotated[dict[str, Any], Field(
        description="Always-valid (mSPRT confidence sequence) decision: status collecting_data | winner | "
                    "no_significant_difference | sample_ratio_mismatch")]
    winner: Annotated[str, Field(description="Variant name, 'no significant difference' or 'collecting data'")]
    fixedHorizon: Annotated[dict[str, Any] | None, Field(  # noqa: N815
        description="Two-proportion z-test with 95% CI, Welch and Mann-Whitney on latency with effect sizes, "
                    "accuracy from feedback")] = None
    sampleRatioMismatch: dict[str, Any] | None = None  # noqa: N815
    recommendation: str | None = None
    promotion: dict[str, Any] | None = None


class CategorizedByModel(BaseModel):
    """Beside every analysis result: how many events the production model categorised first."""

    categorizedByModel: Annotated[int, Field(ge=0, description="Events whose category the model filled in")]  # noqa: N815
    modelVersion: Annotated[str | None, Field(description="Present when the model was used")] = None  # noqa: N815


class Period(BaseModel):
    startDate: str | None = None  # noqa: N815
    endDate: str | None = None  # noqa: N815
    days: float | None = None


class CategoryShare(BaseModel):
    category: str | None = None
    hours: float | None = None
    percentage: float | None = None
    recommendedPercentage: float | None = None  # noqa: N815
    difference: float | None = None
    status: Literal["optimal", "over", "under"] | None = None


class BalanceResult(BaseModel):
    userId: str  # noqa: N815
    status: Literal["ok", "empty"]
    period: Period
    targetsSource: Literal["request", "default"] | None = None  # noqa: N815
    totalHours: float | None = None  # noqa: N815
    eventCount: int | None = None  # noqa: N815
    overlapHours: float | None = None  # noqa: N815
    score: Annotated[float | None, Field(ge=0, le=1)]
    categories: list[CategoryShare]
    insights: list[str] | None = None
    recommendations: list[dict[str, Any]] | None = None


class Suggestion(BaseModel):
    eventId: str | None = None  # noqa: N815
    title: str | None = None
    originalStart: str | None = None  # noqa: N815
    originalEnd: str | None = None  # noqa: N815
    suggestedStart: str | None = None  # noqa: N815
    suggestedEnd: str | None = None  # noqa: N815
    reasonCodes: list[str] | None = None  # noqa: N815
    reason: str | None = None
    impact: float | None = None


class ScheduleResult(BaseModel):
    userId: str  # noqa: N815
    status: Literal["ok", "empty"]
    period: Period
    constraints: dict[str, Any] | None = None
    suggestions: list[Suggestion]
    balanceScoreBefore: float | None = None  # noqa: N815
    balanceScoreAfter: float | None = None  # noqa: N815
    issuesBefore: dict[str, Any] | None = None  # noqa: N815
    issuesAfter: dict[str, Any] | None = None  # noqa: N815
    movableEventCount: int | None = None  # noqa: N815
    fixedEventCount: int | None = None  # noqa: N815


class Pattern(BaseModel):
    type: Literal["weekly_event", "daily_routine", "workday", "category_block"] | None = None
    daysOfWeek: list[str] | None = None  # noqa: N815
    startTime: str | None = None  # noqa: N815
    endTime: str | None = None  # noqa: N815
    frequency: int | None = None
    confidence: float | None = None
    description: str | None = None


class Anomaly(BaseModel):
    eventId: str | None = None  # noqa: N815
    title: str | None = None
    types: list[str] | None = None
    reasons: list[str] | None = None
    severity: Literal["high", "medium", "low"] | None = None


class PatternsResult(BaseModel):
    userId: str  # noqa: N815
    status: Literal["ok", "insufficient_data"]
    lookbackDays: int | None = None  # noqa: N815
    minConfidence: float | None = None  # noqa: N815
    eventCount: int | None = None  # noqa: N815
    period: Period | None = None
    patterns: list[Pattern]
    anomalies: list[Anomaly]


class BurnoutResult(BaseModel):
    userId: str  # noqa: N815
    status: Literal["ok", "empty"]
    period: Period | None = None
    riskScore: Annotated[float | None, Field(ge=0, le=1)]  # noqa: N815
    level: Literal["low", "medium", "high", "critical"] | None
    factors: dict[str, dict[str, Any]] | None = None
    warnings: list[dict[str, Any]] | None = None
    metrics: dict[str, Any] | None = None
    recommendations: list[dict[str, Any]] | None = None
    preventiveActions: list[dict[str, Any]] | None = None  # noqa: N815
    monitoringPlan: dict[str, Any] | None = None  # noqa: N815


class ShadowDeployment(BaseModel):
    """A version scoring live traffic beside the production version it is compared with."""

    shadowId: str  # noqa: N815 - the wire's names
    modelName: str  # noqa: N815
    version: str
    productionVersion: str  # noqa: N815
    status: Literal["running", "stopped", "promoted"]
    startedAt: float  # noqa: N815
    endedAt: float | None = None  # noqa: N815
    endReason: str | None = None  # noqa: N815


class ShadowStarted(BaseModel):
    """201 when the shadow started; 200 with ``created: false`` when that version was already shadowing."""

    shadow: ShadowDeployment
    created: bool


class ShadowSummary(BaseModel):
    """What the model's most recent shadow showed; counts are exact (every shadowed event is counted once)."""

    shadow: ShadowDeployment
    events: Annotated[dict[str, int], Field(
        description="observed = scored + failed + dropped (dropped: the shadow could not keep up)")]
    agreement: Annotated[dict[str, Any], Field(
        description="rate, agreed, scored and perClass {production class: events, agreed, rate, shadowAnswers}")]
    latencyMs: Annotated[dict[str, Any], Field(  # noqa: N815
        description="Model time of single classifications, production and shadow: mean, p50, p95")]
    confidence: Annotated[dict[str, Any], Field(
        description="productionMean, shadowMean, shift (shadow - production), meanAbsoluteShift")]
    feedback: Annotated[dict[str, Any], Field(
        description="User corrections of shadowed events: both versions' accuracy on the same events")]
    recommendation: Annotated[dict[str, Any], Field(
        description="action promote | keep_production | none, decided by the promotion gates, with reasons")]


class ShadowPromotion(BaseModel):
    """The shadow's version promoted through the gates (Staging, then Production); the shadow has ended."""

    model_name: str
    version: str
    promoted: bool
    stage: str
    reasons: list[str]
    archived: list[str]
    shadow: ShadowDeployment


# Requests are documented as validated, answers as serialised.
REQUESTS: tuple[type[BaseModel], ...] = (Event, CalendarEvent, EventBatch, FeedbackRequest, AlertRule,
                                         TrainingRequestBody, ExperimentRequest, BalanceRequestBody,
                                         PatternsRequestBody, BurnoutRequestBody, ScheduleRequestBody,
                                         ApprovalDecisionBody, ShadowRequest)
ANSWERS: tuple[type[BaseModel], ...] = (Classification, ClassificationBatch, Feedback, Accepted, TrainingAccepted,
                                        TaskStatus, Health, Error, ModelVersion, ModelVersions, Promotion, Rollback,
                                        Comparison, AlertStatus, Dashboard, Experiment, ExperimentResults,
                                        CategorizedByModel, BalanceResult, ScheduleResult, PatternsResult,
                                        BurnoutResult, PromotionApproval, PromotionApprovals, ShadowStarted,
                                        ShadowSummary, ShadowPromotion)


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
