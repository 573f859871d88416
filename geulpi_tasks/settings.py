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
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @property
    def effective_tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

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
            if value is None:
                continue
            env[var] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        for var, (attr, _default, _doc) in ENVIRONMENT.items():
            if var in env and env[var] != "":
                kwargs[attr] = _convert(attr, env[var])
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
}
