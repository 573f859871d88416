"""One typed Settings object, read from the environment once at each process entry.

Every knob has one home here: its type, allowed range, environment variable, documented default and one-line meaning
sit on the field itself (``Annotated[type, Env(...), Field(...)]``). ``Settings.from_env`` reads and checks the
environment with pydantic-settings, so a wrong or out-of-range value stops start-up with a message naming the
variable and what it allows. Tests build their own ``Settings(...)``. The README's configuration table is generated
from the same fields (``ENVIRONMENT``), so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Mapping, get_type_hints

from pydantic import Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Env:
    """Where a setting comes from: its environment variable, the default shown in the docs, and what it means."""

    var: str
    shown_default: str
    doc: str


@dataclass(frozen=True)
class Settings:
    # Where everything local lives (Redis data, MLflow SQLite store, artifacts).
    data_dir: Annotated[Path, Env("GEULPI_DATA_DIR", './.data', 'Local data folder: Redis AOF, MLflow SQLite store, artifacts.')] = PROJECT_ROOT / ".data"
    # Broker and result backend; one Redis database by default.
    redis_url: Annotated[str, Env("REDIS_URL", 'redis://127.0.0.1:6379/0', 'Redis used as result backend (and broker unless BROKER_URL).'), Field(min_length=1)] = "redis://127.0.0.1:6379/0"
    # Optional separate broker (e.g. amqp://...); defaults to redis_url.
    broker_url: Annotated[str | None, Env("BROKER_URL", '= REDIS_URL', 'Celery broker, e.g. amqp://guest:guest@127.0.0.1:5672//.')] = None
    # MLflow tracking + registry store; default is SQLite under data_dir.
    mlflow_tracking_uri: Annotated[str | None, Env("MLFLOW_TRACKING_URI", 'sqlite:///./.data/mlflow.db', 'MLflow tracking and registry store.')] = None
    # Registered model name of the event classifier.
    model_name: Annotated[str, Env("GEULPI_MODEL_NAME", 'event_classifier', 'Registered model served for classification.'), Field(min_length=1)] = "event_classifier"
    # Below this calibrated confidence a classification is flagged for review.
    review_threshold: Annotated[float, Env("GEULPI_REVIEW_THRESHOLD", '0.7', 'needsReview is true below this confidence.'), Field(ge=0, le=1)] = 0.7
    # How long a synchronous HTTP call waits for a worker before answering 504.
    sync_timeout_s: Annotated[float, Env("GEULPI_SYNC_TIMEOUT", '10', 'Seconds a synchronous call waits before answering 504.'), Field(gt=0, le=3600)] = 10.0
    # After a sync call on a queue timed out, further calls on it answer 503 at once for this long (seconds).
    breaker_cooldown_s: Annotated[float, Env("GEULPI_BREAKER_COOLDOWN", '2', 'After a sync call timed out, calls on that queue answer 503 at once this long.'), Field(ge=0, le=3600)] = 2.0
    # Largest batch accepted by /v2/classify-events.
    max_batch_size: Annotated[int, Env("GEULPI_MAX_BATCH", '1000', 'Most events in one /v2/classify-events call.'), Field(ge=1, le=100_000)] = 1000
    # Largest request body the API reads (bytes).
    max_request_bytes: Annotated[int, Env("GEULPI_MAX_REQUEST_BYTES", '2097152', 'Largest request body accepted (413 above).'), Field(ge=1024, le=1024**3)] = 2 * 1024 * 1024
    # Run the API alone with tasks executed in-process (no Beat, no shared A/B state).
    disable_redis: Annotated[bool, Env("DISABLE_REDIS", 'false', 'API alone, tasks run in-process (limited: no Beat, no shared state).')] = False
    # Size of the generated data set for the first model (train/validation/test together).
    bootstrap_samples: Annotated[int, Env("GEULPI_BOOTSTRAP_SAMPLES", '16000', 'Generated events used to train the first model.'), Field(ge=300, le=1_000_000)] = 16000
    # Trees in the first model's forest.
    bootstrap_trees: Annotated[int, Env("GEULPI_BOOTSTRAP_TREES", '120', "Trees in the first model's forest."), Field(ge=1, le=5000)] = 120
    # Seed of the generator and of training, so the first model is reproducible.
    seed: Annotated[int, Env("GEULPI_SEED", '7', 'Seed of data generation and training.'), Field(ge=0, le=2**32 - 1)] = 7
    # How often inference workers check the production alias for a new version (seconds).
    model_poll_interval_s: Annotated[float, Env("GEULPI_MODEL_POLL_INTERVAL", '2', "Seconds between inference workers' alias checks."), Field(gt=0, le=3600)] = 2.0
    # Longest training job we expect; the broker visibility timeout is set above it (seconds).
    max_training_job_s: Annotated[int, Env("GEULPI_MAX_TRAINING_JOB_S", '21600', 'Longest training job; visibility timeout is above it.'), Field(ge=1, le=7 * 24 * 3600)] = 6 * 3600
    # API port used by the launcher.
    api_port: Annotated[int, Env("GEULPI_API_PORT", '8001', 'Port of the HTTP API started by scripts/start.'), Field(ge=1, le=65535)] = 8001
    # Flower port used by the launcher.
    flower_port: Annotated[int, Env("GEULPI_FLOWER_PORT", '5555', 'Port of Flower started by scripts/start.'), Field(ge=1, le=65535)] = 5555
    # MLflow UI port used by the launcher (`mlflow server` on the local store; loopback only).
    mlflow_port: Annotated[int, Env("GEULPI_MLFLOW_PORT", '5000', 'Port of the MLflow UI scripts/start serves on the local store (127.0.0.1).'), Field(ge=1, le=65535)] = 5000
    # Prefix of every Redis key the project writes outside Celery's own keys.
    key_prefix: Annotated[str, Env("GEULPI_KEY_PREFIX", 'geulpi', 'Prefix of every Redis key the project writes.'), Field(min_length=1)] = "geulpi"
    # Health check: how long to wait for an inference worker to answer a ping (seconds).
    health_ping_timeout_s: Annotated[float, Env("GEULPI_HEALTH_PING_TIMEOUT", '1', 'Seconds /health waits for a worker ping.'), Field(gt=0, le=60)] = 1.0
    # Model lifecycle: auto-promotion to Production needs at least this accuracy on the realistic dev holdout.
    gate_min_accuracy: Annotated[float, Env("GEULPI_GATE_MIN_ACCURACY", '0.8', 'Accuracy on the realistic dev holdout a version needs for auto-promotion.'), Field(ge=0, le=1)] = 0.80
    # Model lifecycle: auto-promotion needs at least this macro precision on the realistic dev holdout.
    gate_min_macro_precision: Annotated[float, Env("GEULPI_GATE_MIN_MACRO_PRECISION", '0.75', 'Realistic-holdout macro precision a version needs for auto-promotion.'), Field(ge=0, le=1)] = 0.75
    # Model lifecycle: auto-promotion needs at least this macro recall on the realistic dev holdout.
    gate_min_macro_recall: Annotated[float, Env("GEULPI_GATE_MIN_MACRO_RECALL", '0.75', 'Realistic-holdout macro recall a version needs for auto-promotion.'), Field(ge=0, le=1)] = 0.75
    # Feedback: how long a classified event is remembered so feedback can name it by eventId/requestId (seconds).
    feedback_cache_ttl_s: Annotated[int, Env("GEULPI_FEEDBACK_CACHE_TTL", '604800', 'Seconds a classified event is kept so feedback can name it by id.'), Field(ge=1)] = 7 * 24 * 3600
    # Model comparison: generated held-out events (fixed seed) both versions are evaluated on, besides feedback.
    compare_eval_samples: Annotated[int, Env("GEULPI_COMPARE_EVAL_SAMPLES", '2000', 'Generated held-out events /models/compare evaluates both versions on.'), Field(ge=1, le=1_000_000)] = 2000
    # A/B experiments: requests per variant before a winner may be declared (the seed's advice).
    ab_min_samples: Annotated[int, Env("GEULPI_AB_MIN_SAMPLES", '1000', 'Requests per variant before an A/B winner may be declared.'), Field(ge=1)] = 1000
    # A/B experiments: error rate of the always-valid winner decision (and level of the fixed-horizon tests).
    ab_alpha: Annotated[float, Env("GEULPI_AB_ALPHA", '0.05', 'Error rate of the always-valid A/B decision and fixed-horizon tests.'), Field(gt=0, lt=1)] = 0.05
    # A/B experiments: sd of the mSPRT normal mixture over the difference in rates; about the effect we look for.
    ab_msprt_tau: Annotated[float, Env("GEULPI_AB_MSPRT_TAU", '0.03', 'Sd of the mSPRT mixture over the difference in rates.'), Field(gt=0, le=1)] = 0.03
    # A/B experiments: sample-ratio mismatch is flagged below this chi-square p-value.
    ab_srm_p: Annotated[float, Env("GEULPI_AB_SRM_P", '0.001', 'Sample-ratio mismatch is flagged below this chi-square p-value.'), Field(gt=0, lt=1)] = 0.001
    # A/B experiments: feedback answers per variant before accuracy is compared.
    ab_min_feedback: Annotated[int, Env("GEULPI_AB_MIN_FEEDBACK", '100', 'Feedback answers per variant before accuracy is compared.'), Field(ge=1)] = 100
    # A/B experiments: latencies kept per variant (newest first) for p50/p95 and the latency tests.
    ab_latency_samples: Annotated[int, Env("GEULPI_AB_LATENCY_SAMPLES", '5000', 'Latencies kept per A/B variant for p50/p95.'), Field(ge=1, le=1_000_000)] = 5000
    # A/B experiments: how long an inference process trusts its copy of the running experiment (seconds).
    ab_cache_ttl_s: Annotated[float, Env("GEULPI_AB_CACHE_TTL", '1', 'Seconds an inference process caches the running experiment.'), Field(ge=0, le=3600)] = 1.0
    # Shadow deployments: how long an inference process trusts its copy of the model's shadow (seconds).
    shadow_cache_ttl_s: Annotated[float, Env("GEULPI_SHADOW_CACHE_TTL", '1', 'Seconds an inference process caches the model\'s shadow deployment.'), Field(ge=0, le=3600)] = 1.0
    # Monitoring: share of single-event classifications whose Celery task events reach Flower (sampled by task id;
    # failures always). Every event of other tasks is sent. 1 = all, as Celery does; each costs ~4 Redis PUBLISHes.
    inference_events_share: Annotated[float, Env("GEULPI_INFERENCE_EVENTS_SHARE", '0.01', 'Share of single classifications whose task events Flower sees (failures: all).'), Field(ge=0, le=1)] = 0.01
    # Serving (issue 13): concurrent single classifications in one API process share one task message
    # (api/coalescer.py). The first call waits while others are already on their way, at most this long.
    coalesce_window_ms: Annotated[float, Env("GEULPI_COALESCE_WINDOW_MS", '5', 'Most ms a single classification waits for concurrent ones on their way to share its task (0: never).'), Field(ge=0, le=100)] = 5.0
    coalesce_in_flight: Annotated[int, Env("GEULPI_COALESCE_IN_FLIGHT", '1', 'Coalesced classification messages in flight per API process; later calls gather behind them.'), Field(ge=1, le=1000)] = 1
    coalesce_max: Annotated[int, Env("GEULPI_COALESCE_MAX", '16', 'Most single classifications sharing one task message (1: none).'), Field(ge=1, le=1000)] = 16
    # Monitoring: prometheus-client multiprocess directory shared by every process (default <data_dir>/prometheus).
    metrics_dir: Annotated[str | None, Env("PROMETHEUS_MULTIPROC_DIR", './.data/prometheus', 'prometheus-client multiprocess directory shared by all processes.')] = None
    # Monitoring: predictions kept in the capped Redis stream that drift, alerts and the dashboard read.
    prediction_log_max: Annotated[int, Env("GEULPI_PREDICTION_LOG_MAX", '100000', 'Predictions kept in the capped Redis stream for monitoring.'), Field(ge=1)] = 100_000
    # Monitoring: the recent window the drift scan compares with the reference (seconds).
    drift_window_s: Annotated[float, Env("GEULPI_DRIFT_WINDOW", '3600', 'Seconds of recent predictions the drift scan compares.'), Field(gt=0)] = 3600.0
    # Monitoring: fewer predictions than this in the window and the drift scan reports insufficient data.
    drift_min_samples: Annotated[int, Env("GEULPI_DRIFT_MIN_SAMPLES", '50', 'Fewest predictions in the window for a drift verdict.'), Field(ge=1)] = 50
    # Monitoring: how often Beat runs the drift scan (seconds; the issue asks for 15 minutes).
    drift_scan_interval_s: Annotated[float, Env("GEULPI_DRIFT_SCAN_INTERVAL", '900', "Seconds between Beat's drift scans."), Field(gt=0)] = 900.0
    # Monitoring: how often Beat evaluates the alert rules (seconds).
    alert_eval_interval_s: Annotated[float, Env("GEULPI_ALERT_EVAL_INTERVAL", '60', "Seconds between Beat's alert evaluations."), Field(gt=0)] = 60.0
    # Monitoring: Alertmanager-compatible webhook receiving firing/resolved alerts; empty for none.
    alert_webhook_url: Annotated[str, Env("GEULPI_ALERT_WEBHOOK_URL", '', 'Alertmanager-format webhook for firing/resolved alerts (empty: none).')] = ""
    # Monitoring: hours of history the dashboard summarises.
    dashboard_hours: Annotated[int, Env("GEULPI_DASHBOARD_HOURS", '24', 'Hours of history the monitoring dashboard summarises.'), Field(ge=1, le=24 * 90)] = 24
    # Training: generated events per training job when the request sends no training_data.
    training_samples: Annotated[int, Env("GEULPI_TRAINING_SAMPLES", '16000', 'Generated events per training job without training_data.'), Field(ge=100, le=1_000_000)] = 16000
    # Training: a distributed-search worker refreshes its liveness key this often; 3 missed beats = dead (seconds).
    trial_heartbeat_s: Annotated[float, Env("GEULPI_TRIAL_HEARTBEAT_S", '5', 'Seconds between search-worker heartbeats; 3 missed = trial retried.'), Field(gt=0, le=3600)] = 5.0
    # How long a training job waits for Redis to come back after an outage before it fails (seconds, per outage).
    training_outage_wait_s: Annotated[float, Env("GEULPI_TRAINING_OUTAGE_WAIT", '300', 'Seconds a training job waits for Redis to return after an outage, then fails.'), Field(ge=0)] = 300.0
    # Nightly retraining: UTC time of day Beat starts it ("HH:MM").
    retrain_at: Annotated[str, Env("GEULPI_RETRAIN_AT", '02:00', "UTC time (HH:MM) of Beat's nightly retraining."), Field(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", json_schema_extra={"allowed": "HH:MM from 00:00 to 23:59"})] = "02:00"
    # Nightly retraining: Optuna trials of the nightly job.
    retrain_trials: Annotated[int, Env("GEULPI_RETRAIN_TRIALS", '20', 'Optuna trials of the nightly retraining job.'), Field(ge=1, le=500)] = 20
    # Security: comma-separated API keys accepted as "Authorization: Bearer <key>"; none = mutating calls refused.
    api_keys: Annotated[str, Env("GEULPI_API_KEYS", '(scripts/start: generated)', 'Comma-separated API keys (Authorization: Bearer); empty = every mutating call is refused.')] = field(default="", repr=False)
    # Security: "open" or "key" — whether GET endpoints (except /health, metrics, docs) need an API key.
    auth_reads: Annotated[str, Env("GEULPI_AUTH_READS", 'open', 'open, or key: GET endpoints other than /health, metrics and docs need a key.'), Field(pattern=r"^(?i:\s*(open|key)\s*)$", json_schema_extra={"allowed": "open or key"})] = "open"
    # Security: "open" or "key" — whether classification, analyses and feedback need an API key.
    auth_classify: Annotated[str, Env("GEULPI_AUTH_CLASSIFY", 'open', 'open, or key: classification, analyses and feedback need a key.'), Field(pattern=r"^(?i:\s*(open|key)\s*)$", json_schema_extra={"allowed": "open or key"})] = "open"
    # Security: Flower's "user:password" basic auth; scripts/start generates one into <data_dir>/flower-auth if empty.
    flower_basic_auth: Annotated[str, Env("FLOWER_BASIC_AUTH", '(scripts/start: generated)', "Flower's user:password basic auth (read by Flower itself).")] = field(default="", repr=False)
    # Rate limits (flask-limiter, counted in Redis): off by default so benchmarks from one machine never meet them;
    # docker-compose turns them on. Each limit is counted per API key (client address without one) and per userId.
    rate_limits: Annotated[bool, Env("GEULPI_RATE_LIMITS", 'false', 'Rate limits on (docker-compose) or off (scripts/start); counted in Redis.')] = False
    # Rate limit of classification calls (/classify-event, /v2/classify-event(s)); "N/second|minute|hour|day", ";"-joined.
    rate_limit_classify: Annotated[str, Env("GEULPI_RATE_LIMIT_CLASSIFY", '600/minute', 'Classification calls per API key (or address) and per userId.'), Field(min_length=1)] = "600/minute"
    # Rate limit of the four calendar analyses (heavier per call than a classification).
    rate_limit_analyses: Annotated[str, Env("GEULPI_RATE_LIMIT_ANALYSES", '120/minute', 'Calendar analyses per API key (or address) and per userId.'), Field(min_length=1)] = "120/minute"
    # Rate limit of POST /feedback.
    rate_limit_feedback: Annotated[str, Env("GEULPI_RATE_LIMIT_FEEDBACK", '300/minute', 'POST /feedback per API key (or address) and per userId.'), Field(min_length=1)] = "300/minute"
    # Rate limit of POST /models/train (each accepted call is a training job of minutes).
    rate_limit_training: Annotated[str, Env("GEULPI_RATE_LIMIT_TRAINING", '20/hour', 'POST /models/train per API key.'), Field(min_length=1)] = "20/hour"
    # Idempotency-Key: how long the first answer to a key is kept and replayed (seconds; 24 h as the issue asks).
    idempotency_ttl_s: Annotated[int, Env("GEULPI_IDEMPOTENCY_TTL", '86400', 'Seconds the first answer to an Idempotency-Key is kept and replayed.'), Field(ge=1)] = 24 * 3600
    # Client side: the key the traffic simulator sends as "Authorization: Bearer" (the API checks api_keys).
    client_api_key: Annotated[str, Env("GEULPI_API_KEY", '', 'Key the traffic simulator sends as Bearer (client side; else <data_dir>/api-key).')] = field(default="", repr=False)
    # Security: interface the API listens on (scripts/start); 0.0.0.0 exposes it to the network.
    api_host: Annotated[str, Env("GEULPI_API_HOST", '127.0.0.1', 'Interface the API binds to in scripts/start (0.0.0.0: the network).')] = "127.0.0.1"
    # Privacy: secret of the keyed hash that stands for event text in Flower and task events; empty = derived
    # from GEULPI_API_KEYS (every process of a deployment shares those), so the same text gets the same hash.
    redaction_key: Annotated[str, Env("GEULPI_REDACTION_KEY", '(derived from GEULPI_API_KEYS)', 'Secret of the keyed hash shown instead of event text in Flower and task events.')] = field(default="", repr=False)
    # Privacy: show full task arguments and results in Flower, task events and worker logs (debugging only).
    flower_full_args: Annotated[bool, Env("GEULPI_FLOWER_FULL_ARGS", 'false', 'true: Flower, task events and worker logs show full arguments and results (debug).')] = False
    # Privacy: a classification or analysis result is deleted this long after the API read it (seconds).
    classify_result_ttl_s: Annotated[int, Env("GEULPI_CLASSIFY_RESULT_TTL", '300', 'Seconds a classification/analysis result is kept after the API read it.'), Field(ge=1)] = 300
    # Privacy: results of jobs people poll (training, compare) and unread results are kept this long (seconds).
    job_result_ttl_s: Annotated[int, Env("GEULPI_JOB_RESULT_TTL", '86400', 'Seconds results of polled jobs (training, compare) and unread results are kept.'), Field(ge=1)] = 24 * 3600
    # Model lifecycle: promotions to Production (API, CLI, auto-promotion, nightly job) wait for a second key's approval.
    require_approval: Annotated[bool, Env("GEULPI_REQUIRE_APPROVAL", 'false', 'true: a promotion to Production creates a pending request another API key must approve.')] = False
    # Model lifecycle: a pending promotion request expires this long after it was made (seconds; 3 days by default).
    approval_ttl_s: Annotated[int, Env("GEULPI_APPROVAL_TTL", '259200', 'Seconds a promotion request stays pending before it expires (3 days).'), Field(ge=1, le=90 * 24 * 3600)] = 3 * 24 * 3600
    # Audit: entries of the audit stream older than this are trimmed (seconds).
    audit_max_age_s: Annotated[int, Env("GEULPI_AUDIT_MAX_AGE", '7776000', 'Seconds an audit entry is kept (90 days).'), Field(ge=1)] = 90 * 24 * 3600
    # Tracing: "otlp" exports spans (OTLP/HTTP); "none" keeps them in the process; empty: otlp iff an endpoint is set.
    otel_traces_exporter: Annotated[str, Env("OTEL_TRACES_EXPORTER", '', 'otlp: export traces over OTLP/HTTP; none: never; empty: otlp when an endpoint is set.'), Field(pattern=r"^(|none|otlp)$", json_schema_extra={"allowed": "otlp, none or empty"})] = ""
    # Tracing: base URL of the OTLP/HTTP receiver (a collector, or Jaeger's :4318); spans go to <url>/v1/traces.
    otel_exporter_otlp_endpoint: Annotated[str, Env("OTEL_EXPORTER_OTLP_ENDPOINT", '', 'OTLP/HTTP receiver, e.g. http://jaeger:4318 (spans go to <url>/v1/traces).')] = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def api_key_list(self) -> tuple[str, ...]:
        return tuple(key.strip() for key in self.api_keys.split(",") if key.strip())

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @property
    def effective_tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def effective_metrics_dir(self) -> Path:
        return Path(self.metrics_dir) if self.metrics_dir else (self.data_dir / "prometheus").resolve()

    @property
    def artifact_root(self) -> Path:
        return (self.data_dir / "mlartifacts").resolve()

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The environment variables that rebuild these settings in a child process."""
        env: dict[str, str] = {}
        for var, (attr, _default, _doc) in ENVIRONMENT.items():
            value = getattr(self, attr)
            if value is None or value == "":  # from_env reads "" as unset; Flower would read FLOWER_BASIC_AUTH=""
                continue
            env[var] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment (default ``os.environ``); an empty variable counts as unset.

        Raises SettingsError (a ValueError) naming every variable whose value is wrong or out of range."""
        env = os.environ if environ is None else environ
        model = _environment_model()
        values = _MappingEnvSource(model, env)()
        try:
            checked = model(**values)
        except ValidationError as err:
            raise SettingsError(_describe(err, env)) from None
        values = {name: getattr(checked, name) for name in ENVIRONMENT_FIELDS}
        return cls(**{**values, "data_dir": Path(values["data_dir"]).expanduser()})


class SettingsError(ValueError):
    """An environment variable holds a value its setting does not allow; the message names each one."""


def _env_of(name: str) -> Env | None:
    hints = get_type_hints(Settings, include_extras=True)
    return next((m for m in getattr(hints[name], "__metadata__", ()) if isinstance(m, Env)), None)


def _allowed(info: FieldInfo) -> str:
    """The allowed range of a field, in words (from its Field constraints)."""
    parts: list[str] = []
    for item in info.metadata:
        for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(item, attr, None) is not None:
                parts.append(f"{word} {getattr(item, attr)}")
        if getattr(item, "min_length", None):
            parts.append("not empty")
        if getattr(item, "pattern", None):
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            parts.append(str(extra.get("allowed") or f"matching {item.pattern}"))
    annotation = info.annotation
    kind = {bool: "true or false", int: "an integer", float: "a number"}.get(annotation)  # type: ignore[arg-type]
    return ", ".join(([kind] if kind else []) + parts)


def _describe(err: ValidationError, env: Mapping[str, str]) -> str:
    model = _environment_model()
    lines = []
    for problem in err.errors():
        var = str(problem["loc"][0]) if problem["loc"] else "?"
        name = next((n for n in ENVIRONMENT_FIELDS if ENVIRONMENT_FIELDS[n].var == var), var)
        info = model.model_fields.get(name)
        allowed = _allowed(info) if info is not None else ""
        lines.append(f"{var}={env.get(var)!r} is not valid: {problem['msg']}"
                     + (f" (allowed: {allowed})" if allowed else ""))
    return "Invalid settings in the environment:\n  " + "\n  ".join(lines)


class _FromEnvironmentBase(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment comes in through _MappingEnvSource, never implicitly


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (``os.environ`` or a test's dict)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=True, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


@cache
def _environment_model() -> type[BaseSettings]:
    """A pydantic-settings model built from Settings' own fields: same types and ranges, the variable as alias."""
    hints = get_type_hints(Settings, include_extras=True)
    fields: dict[str, Any] = {}
    for name, env in ENVIRONMENT_FIELDS.items():
        annotation = hints[name]
        default = next(f for f in dataclasses.fields(Settings) if f.name == name)
        value = default.default if default.default is not dataclasses.MISSING else default.default_factory()  # type: ignore[operator]
        fields[name] = (annotation, Field(default=value, validation_alias=env.var))
    return create_model("SettingsFromEnvironment", __base__=_FromEnvironmentBase, **fields)  # type: ignore[call-overload, no-any-return]


# Setting name -> where it comes from, in field order: the single place the variables are documented.
ENVIRONMENT_FIELDS: dict[str, Env] = {
    f.name: env for f in dataclasses.fields(Settings) if (env := _env_of(f.name)) is not None}


def _documented(name: str, env: Env) -> str:
    allowed = _allowed(_environment_model().model_fields[name])
    kinds = ("a number", "an integer", "true or false", "not empty")
    ranges = [part for part in allowed.split(", ") if part and part not in kinds]
    return env.doc + (f" Allowed: {', '.join(ranges)}." if ranges else "")


# Environment variable -> (Settings attribute, default shown in docs, meaning): the README's table.
ENVIRONMENT: dict[str, tuple[str, str, str]] = {
    env.var: (name, env.shown_default, _documented(name, env)) for name, env in ENVIRONMENT_FIELDS.items()}
