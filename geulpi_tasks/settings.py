"""One typed Settings object, read from the environment once at each process entry.

Every knob has one home here with a one-line reason; tests build their own ``Settings(...)``.
The README's configuration table is generated from ``ENVIRONMENT`` below, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    # Where everything local lives (Redis data, MLflow SQLite store, artifacts).
    data_dir: Path = PROJECT_ROOT / ".data"
    # Broker and result backend; one Redis database by default.
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Optional separate broker (e.g. amqp://...); defaults to redis_url.
    broker_url: str | None = None
    # MLflow tracking + registry store; default is SQLite under data_dir.
    mlflow_tracking_uri: str | None = None
    # Registered model name of the event classifier.
    model_name: str = "event_classifier"
    # Below this calibrated confidence a classification is flagged for review.
    review_threshold: float = 0.7
    # How long a synchronous HTTP call waits for a worker before answering 504.
    sync_timeout_s: float = 10.0
    # After a sync call on a queue timed out, further calls on it answer 503 at once for this long (seconds).
    breaker_cooldown_s: float = 2.0
    # Largest batch accepted by /v2/classify-events.
    max_batch_size: int = 1000
    # Largest request body the API reads (bytes).
    max_request_bytes: int = 2 * 1024 * 1024
    # Run the API alone with tasks executed in-process (no Beat, no shared A/B state).
    disable_redis: bool = False
    # Size of the generated data set for the first model (train/validation/test together).
    bootstrap_samples: int = 12000
    # Trees in the first model's forest.
    bootstrap_trees: int = 120
    # Seed of the generator and of training, so the first model is reproducible.
    seed: int = 7
    # How often inference workers check the production alias for a new version (seconds).
    model_poll_interval_s: float = 2.0
    # Longest training job we expect; the broker visibility timeout is set above it (seconds).
    max_training_job_s: int = 6 * 3600
    # API port used by the launcher.
    api_port: int = 8001
    # Flower port used by the launcher.
    flower_port: int = 5555
    # Prefix of every Redis key the project writes outside Celery's own keys.
    key_prefix: str = "geulpi"
    # Health check: how long to wait for an inference worker to answer a ping (seconds).
    health_ping_timeout_s: float = 1.0
    # Model lifecycle: auto-promotion to Production needs at least this accuracy on the realistic dev holdout.
    gate_min_accuracy: float = 0.80
    # Model lifecycle: auto-promotion needs at least this macro precision on the realistic dev holdout.
    gate_min_macro_precision: float = 0.75
    # Model lifecycle: auto-promotion needs at least this macro recall on the realistic dev holdout.
    gate_min_macro_recall: float = 0.75
    # Feedback: how long a classified event is remembered so feedback can name it by eventId/requestId (seconds).
    feedback_cache_ttl_s: int = 7 * 24 * 3600
    # Model comparison: generated held-out events (fixed seed) both versions are evaluated on, besides feedback.
    compare_eval_samples: int = 2000
    # A/B experiments: requests per variant before a winner may be declared (the seed's advice).
    ab_min_samples: int = 1000
    # A/B experiments: error rate of the always-valid winner decision (and level of the fixed-horizon tests).
    ab_alpha: float = 0.05
    # A/B experiments: sd of the mSPRT normal mixture over the difference in rates; about the effect we look for.
    ab_msprt_tau: float = 0.03
    # A/B experiments: sample-ratio mismatch is flagged below this chi-square p-value.
    ab_srm_p: float = 0.001
    # A/B experiments: feedback answers per variant before accuracy is compared.
    ab_min_feedback: int = 100
    # A/B experiments: latencies kept per variant (newest first) for p50/p95 and the latency tests.
    ab_latency_samples: int = 5000
    # A/B experiments: how long an inference process trusts its copy of the running experiment (seconds).
    ab_cache_ttl_s: float = 1.0
    # Monitoring: prometheus-client multiprocess directory shared by every process (default <data_dir>/prometheus).
    metrics_dir: str | None = None
    # Monitoring: predictions kept in the capped Redis stream that drift, alerts and the dashboard read.
    prediction_log_max: int = 100_000
    # Monitoring: the recent window the drift scan compares with the reference (seconds).
    drift_window_s: float = 3600.0
    # Monitoring: fewer predictions than this in the window and the drift scan reports insufficient data.
    drift_min_samples: int = 50
    # Monitoring: how often Beat runs the drift scan (seconds; the issue asks for 15 minutes).
    drift_scan_interval_s: float = 900.0
    # Monitoring: how often Beat evaluates the alert rules (seconds).
    alert_eval_interval_s: float = 60.0
    # Monitoring: Alertmanager-compatible webhook receiving firing/resolved alerts; empty for none.
    alert_webhook_url: str = ""
    # Monitoring: hours of history the dashboard summarises.
    dashboard_hours: int = 24
    # Training: generated events per training job when the request sends no training_data.
    training_samples: int = 6000
    # Training: a distributed-search worker refreshes its liveness key this often; 3 missed beats = dead (seconds).
    trial_heartbeat_s: float = 5.0
    # How long a training job waits for Redis to come back after an outage before it fails (seconds, per outage).
    training_outage_wait_s: float = 300.0
    # Nightly retraining: UTC time of day Beat starts it ("HH:MM").
    retrain_at: str = "02:00"
    # Nightly retraining: Optuna trials of the nightly job.
    retrain_trials: int = 20
    # Security: comma-separated API keys accepted as "Authorization: Bearer <key>"; none = mutating calls refused.
    api_keys: str = field(default="", repr=False)
    # Security: "open" or "key" — whether GET endpoints (except /health, metrics, docs) need an API key.
    auth_reads: str = "open"
    # Security: "open" or "key" — whether classification, analyses and feedback need an API key.
    auth_classify: str = "open"
    # Security: Flower's "user:password" basic auth; scripts/start generates one into <data_dir>/flower-auth if empty.
    flower_basic_auth: str = field(default="", repr=False)
    # Client side: the key the traffic simulator sends as "Authorization: Bearer" (the API checks api_keys).
    client_api_key: str = field(default="", repr=False)
    # Security: interface the API listens on (scripts/start); 0.0.0.0 exposes it to the network.
    api_host: str = "127.0.0.1"
    # Privacy: secret of the keyed hash that stands for event text in Flower and task events; empty = derived
    # from GEULPI_API_KEYS (every process of a deployment shares those), so the same text gets the same hash.
    redaction_key: str = field(default="", repr=False)
    # Privacy: show full task arguments and results in Flower, task events and worker logs (debugging only).
    flower_full_args: bool = False
    # Privacy: a classification or analysis result is deleted this long after the API read it (seconds).
    classify_result_ttl_s: int = 300
    # Privacy: results of jobs people poll (training, compare) and unread results are kept this long (seconds).
    job_result_ttl_s: int = 24 * 3600
    # Audit: entries of the audit stream older than this are trimmed (seconds).
    audit_max_age_s: int = 90 * 24 * 3600
    # Tracing: "otlp" exports spans (OTLP/HTTP); "none" keeps them in the process; empty: otlp iff an endpoint is set.
    otel_traces_exporter: str = ""
    # Tracing: base URL of the OTLP/HTTP receiver (a collector, or Jaeger's :4318); spans go to <url>/v1/traces.
    otel_exporter_otlp_endpoint: str = ""
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

    def replace(self, **changes: Any) -> "Settings":
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        for var, (attr, _default, _doc) in ENVIRONMENT.items():
            if var in env and env[var] != "":
                try:
                    kwargs[attr] = _convert(attr, env[var])
                except ValueError as err:  # name the variable: "could not convert 'abc'" alone says nothing
                    raise ValueError(f"{var}={env[var]!r} is not valid: {err}") from err
        return cls(**kwargs)


def _convert(attr: str, raw: str) -> Any:
    default = getattr(Settings, attr, None)
    fld = Settings.__dataclass_fields__[attr]
    kind = fld.type if isinstance(fld.type, str) else getattr(fld.type, "__name__", "")
    if attr == "data_dir":
        return Path(raw).expanduser()
    if isinstance(default, bool) or kind == "bool":
        return _bool(raw)
    if isinstance(default, int) and not isinstance(default, bool):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


# Environment variable -> (Settings attribute, default shown in docs, meaning). The single place to document them.
ENVIRONMENT: dict[str, tuple[str, str, str]] = {
    "GEULPI_DATA_DIR": ("data_dir", "./.data", "Local data folder: Redis AOF, MLflow SQLite store, artifacts."),
    "REDIS_URL": ("redis_url", "redis://127.0.0.1:6379/0", "Redis used as result backend (and broker unless BROKER_URL)."),
    "BROKER_URL": ("broker_url", "= REDIS_URL", "Celery broker, e.g. amqp://guest:guest@127.0.0.1:5672//."),
    "MLFLOW_TRACKING_URI": ("mlflow_tracking_uri", "sqlite:///./.data/mlflow.db",
                            "MLflow tracking and registry store."),
    "GEULPI_MODEL_NAME": ("model_name", "event_classifier", "Registered model served for classification."),
    "GEULPI_REVIEW_THRESHOLD": ("review_threshold", "0.7", "needsReview is true below this confidence."),
    "GEULPI_SYNC_TIMEOUT": ("sync_timeout_s", "10", "Seconds a synchronous call waits before answering 504."),
    "GEULPI_BREAKER_COOLDOWN": ("breaker_cooldown_s", "2",
                                "After a sync call timed out, calls on that queue answer 503 at once this long."),
    "GEULPI_MAX_BATCH": ("max_batch_size", "1000", "Most events in one /v2/classify-events call."),
    "GEULPI_MAX_REQUEST_BYTES": ("max_request_bytes", "2097152", "Largest request body accepted (413 above)."),
    "DISABLE_REDIS": ("disable_redis", "false", "API alone, tasks run in-process (limited: no Beat, no shared state)."),
    "GEULPI_BOOTSTRAP_SAMPLES": ("bootstrap_samples", "12000", "Generated events used to train the first model."),
    "GEULPI_BOOTSTRAP_TREES": ("bootstrap_trees", "120", "Trees in the first model's forest."),
    "GEULPI_SEED": ("seed", "7", "Seed of data generation and training."),
    "GEULPI_MODEL_POLL_INTERVAL": ("model_poll_interval_s", "2", "Seconds between inference workers' alias checks."),
    "GEULPI_MAX_TRAINING_JOB_S": ("max_training_job_s", "21600", "Longest training job; visibility timeout is above it."),
    "GEULPI_API_PORT": ("api_port", "8001", "Port of the HTTP API started by scripts/start."),
    "GEULPI_FLOWER_PORT": ("flower_port", "5555", "Port of Flower started by scripts/start."),
    "GEULPI_KEY_PREFIX": ("key_prefix", "geulpi", "Prefix of every Redis key the project writes."),
    "GEULPI_HEALTH_PING_TIMEOUT": ("health_ping_timeout_s", "1", "Seconds /health waits for a worker ping."),
    "GEULPI_GATE_MIN_ACCURACY": ("gate_min_accuracy", "0.8",
                                 "Accuracy on the realistic dev holdout a version needs for auto-promotion."),
    "GEULPI_GATE_MIN_MACRO_PRECISION": ("gate_min_macro_precision", "0.75",
                                        "Realistic-holdout macro precision a version needs for auto-promotion."),
    "GEULPI_GATE_MIN_MACRO_RECALL": ("gate_min_macro_recall", "0.75",
                                     "Realistic-holdout macro recall a version needs for auto-promotion."),
    "GEULPI_FEEDBACK_CACHE_TTL": ("feedback_cache_ttl_s", "604800",
                                  "Seconds a classified event is kept so feedback can name it by id."),
    "GEULPI_COMPARE_EVAL_SAMPLES": ("compare_eval_samples", "2000",
                                    "Generated held-out events /models/compare evaluates both versions on."),
    "GEULPI_AB_MIN_SAMPLES": ("ab_min_samples", "1000", "Requests per variant before an A/B winner may be declared."),
    "GEULPI_AB_ALPHA": ("ab_alpha", "0.05", "Error rate of the always-valid A/B decision and fixed-horizon tests."),
    "GEULPI_AB_MSPRT_TAU": ("ab_msprt_tau", "0.03", "Sd of the mSPRT mixture over the difference in rates."),
    "GEULPI_AB_SRM_P": ("ab_srm_p", "0.001", "Sample-ratio mismatch is flagged below this chi-square p-value."),
    "GEULPI_AB_MIN_FEEDBACK": ("ab_min_feedback", "100", "Feedback answers per variant before accuracy is compared."),
    "GEULPI_AB_LATENCY_SAMPLES": ("ab_latency_samples", "5000", "Latencies kept per A/B variant for p50/p95."),
    "GEULPI_AB_CACHE_TTL": ("ab_cache_ttl_s", "1", "Seconds an inference process caches the running experiment."),
    "PROMETHEUS_MULTIPROC_DIR": ("metrics_dir", "./.data/prometheus", "prometheus-client multiprocess directory shared by all processes."),
    "GEULPI_PREDICTION_LOG_MAX": ("prediction_log_max", "100000", "Predictions kept in the capped Redis stream for monitoring."),
    "GEULPI_DRIFT_WINDOW": ("drift_window_s", "3600", "Seconds of recent predictions the drift scan compares."),
    "GEULPI_DRIFT_MIN_SAMPLES": ("drift_min_samples", "50", "Fewest predictions in the window for a drift verdict."),
    "GEULPI_DRIFT_SCAN_INTERVAL": ("drift_scan_interval_s", "900", "Seconds between Beat's drift scans."),
    "GEULPI_ALERT_EVAL_INTERVAL": ("alert_eval_interval_s", "60", "Seconds between Beat's alert evaluations."),
    "GEULPI_ALERT_WEBHOOK_URL": ("alert_webhook_url", "", "Alertmanager-format webhook for firing/resolved alerts (empty: none)."),
    "GEULPI_DASHBOARD_HOURS": ("dashboard_hours", "24", "Hours of history the monitoring dashboard summarises."),
    "GEULPI_TRAINING_SAMPLES": ("training_samples", "6000", "Generated events per training job without training_data."),
    "GEULPI_TRIAL_HEARTBEAT_S": ("trial_heartbeat_s", "5", "Seconds between search-worker heartbeats; 3 missed = trial retried."),
    "GEULPI_TRAINING_OUTAGE_WAIT": ("training_outage_wait_s", "300",
                                    "Seconds a training job waits for Redis to return after an outage, then fails."),
    "GEULPI_RETRAIN_AT": ("retrain_at", "02:00", "UTC time (HH:MM) of Beat's nightly retraining."),
    "GEULPI_RETRAIN_TRIALS": ("retrain_trials", "20", "Optuna trials of the nightly retraining job."),
    "GEULPI_API_KEYS": ("api_keys", "(scripts/start: generated)",
                        "Comma-separated API keys (Authorization: Bearer); empty = every mutating call is refused."),
    "GEULPI_AUTH_READS": ("auth_reads", "open", "open, or key: GET endpoints other than /health, metrics and docs need a key."),
    "GEULPI_AUTH_CLASSIFY": ("auth_classify", "open", "open, or key: classification, analyses and feedback need a key."),
    "FLOWER_BASIC_AUTH": ("flower_basic_auth", "(scripts/start: generated)",
                          "Flower's user:password basic auth (read by Flower itself)."),
    "GEULPI_API_KEY": ("client_api_key", "",
                       "Key the traffic simulator sends as Bearer (client side; else <data_dir>/api-key)."),
    "GEULPI_API_HOST": ("api_host", "127.0.0.1", "Interface the API binds to in scripts/start (0.0.0.0: the network)."),
    "GEULPI_REDACTION_KEY": ("redaction_key", "(derived from GEULPI_API_KEYS)",
                             "Secret of the keyed hash shown instead of event text in Flower and task events."),
    "GEULPI_FLOWER_FULL_ARGS": ("flower_full_args", "false",
                                "true: Flower, task events and worker logs show full arguments and results (debug)."),
    "GEULPI_CLASSIFY_RESULT_TTL": ("classify_result_ttl_s", "300",
                                   "Seconds a classification/analysis result is kept after the API read it."),
    "GEULPI_JOB_RESULT_TTL": ("job_result_ttl_s", "86400",
                              "Seconds results of polled jobs (training, compare) and unread results are kept."),
    "GEULPI_AUDIT_MAX_AGE": ("audit_max_age_s", "7776000", "Seconds an audit entry is kept (90 days)."),
    "OTEL_TRACES_EXPORTER": ("otel_traces_exporter", "",
                             "otlp: export traces over OTLP/HTTP; none: never; empty: otlp when an endpoint is set."),
    "OTEL_EXPORTER_OTLP_ENDPOINT": ("otel_exporter_otlp_endpoint", "",
                                    "OTLP/HTTP receiver, e.g. http://jaeger:4318 (spans go to <url>/v1/traces)."),
}
