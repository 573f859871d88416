"""Experiment definitions and per-variant counters in Redis, under ``<prefix>:experiments:``.

Durability: everything lives in Redis and survives restarts through Redis's append-only file (``appendonly yes``,
as ``scripts/start``, docker-compose and the tests run it; the default ``appendfsync everysec`` can lose at most
the last second of counters on a crash, nothing on a clean shutdown). The final results of a stopped experiment
are written once, as JSON, beside its definition.

Keys (one helper, ``experiment_key``):
  ``ids``                    sorted set of experiment ids by creation time
  ``def:<id>``               the definition (JSON string)
  ``running:<model>``        id of the running experiment of that model (SET NX: at most one per model)
  ``counts:<id>:<variant>``  hash: exposures, successes, failures, latency_sum_ms, feedback, correct
  ``latency:<id>:<variant>`` list of the newest latencies (ms), bounded
  ``final:<id>``             final results (JSON) written at stop
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Callable, TypeVar

import redis

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, Conflict, NotFound, Unavailable

F = TypeVar("F", bound=Callable[..., Any])


class ExperimentStatus(str, Enum):
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Variant:
    name: str
    version: str
    traffic_percentage: float


@dataclass
class Experiment:
    experiment_id: str
    name: str
    description: str
    model_type: str
    variants: list[Variant]
    duration_hours: float
    success_metrics: dict[str, dict[str, float]]
    created_at: float
    status: ExperimentStatus = ExperimentStatus.RUNNING
    stopped_at: float | None = None
    stop_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ends_at(self) -> float:
        return self.created_at + self.duration_hours * 3600.0

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise NotFound(f"Experiment '{self.experiment_id}' has no variant '{name}'.", details={"variant": name})

    def to_json(self) -> str:
        data = asdict(self)
        data["status"] = self.status.value
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Experiment":
        data = json.loads(raw)
        data["variants"] = [Variant(**v) for v in data["variants"]]
        data["status"] = ExperimentStatus(data["status"])
        return cls(**data)

    def to_wire(self) -> dict[str, Any]:
        return {"experimentId": self.experiment_id, "name": self.name, "description": self.description,
                "modelType": self.model_type, "status": self.status.value,
                "variants": [{"name": v.name, "version": v.version, "trafficPercentage": v.traffic_percentage}
                             for v in self.variants],
                "durationHours": self.duration_hours, "successMetrics": self.success_metrics,
                "createdAt": _iso(self.created_at), "endsAt": _iso(self.ends_at),
                "stoppedAt": _iso(self.stopped_at) if self.stopped_at is not None else None,
                "stopReason": self.stop_reason}


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def experiment_key(prefix: str, *parts: str) -> str:
    """The one builder of experiment keys: ``<prefix>:experiments:<parts...>``."""
    return ":".join((prefix, "experiments", *parts))


def redis_errors(fn: F) -> F:
    """Redis unreachable → Unavailable (503), so callers never see a raw connection error."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except REDIS_OUTAGE_ERRORS as err:
            raise Unavailable("Redis, which holds the experiments, is unreachable; retry shortly.",
                              details={"dependency": "redis"}) from err
    return wrapper  # type: ignore[return-value]


@redis_errors
def create_experiment(client: redis.Redis, prefix: str, experiment: Experiment) -> None:
    """Store a new running experiment. Conflict when the model already has a running one (checked atomically)."""
    running_key = experiment_key(prefix, "running", experiment.model_type)
    if not client.set(running_key, experiment.experiment_id, nx=True):
        current = client.get(running_key)
        current_id = current.decode() if isinstance(current, bytes) else current
        raise Conflict(f"Model '{experiment.model_type}' already has a running experiment ('{current_id}'); "
                       "stop it before creating another.",
                       details={"field": "model_type", "runningExperimentId": current_id})
    pipe = client.pipeline()
    pipe.set(experiment_key(prefix, "def", experiment.experiment_id), experiment.to_json())
    pipe.zadd(experiment_key(prefix, "ids"), {experiment.experiment_id: experiment.created_at})
    pipe.execute()


@redis_errors
def find_experiment(client: redis.Redis, prefix: str, experiment_id: str) -> Experiment | None:
    raw = client.get(experiment_key(prefix, "def", experiment_id))
    return Experiment.from_json(raw) if raw is not None else None


def get_experiment(client: redis.Redis, prefix: str, experiment_id: str) -> Experiment:
    """The experiment; NotFound when no experiment has that id."""
    experiment = find_experiment(client, prefix, experiment_id)
    if experiment is None:
        raise NotFound(f"No experiment with id '{experiment_id}'; list them with GET /experiments.",
                       details={"experimentId": experiment_id})
    return experiment


@redis_errors
def list_experiments(client: redis.Redis, prefix: str) -> list[Experiment]:
    """Every experiment, oldest first."""
    ids = [_text(i) for i in client.zrange(experiment_key(prefix, "ids"), 0, -1)]
    if not ids:
        return []
    raws = client.mget([experiment_key(prefix, "def", i) for i in ids])
    return [Experiment.from_json(raw) for raw in raws if raw is not None]


@redis_errors
def find_running_experiment(client: redis.Redis, prefix: str, model_type: str) -> Experiment | None:
    """The running experiment of a model, or None."""
    current = client.get(experiment_key(prefix, "running", model_type))
    if current is None:
        return None
    experiment = find_experiment(client, prefix, _text(current))
    return experiment if experiment is not None and experiment.status is ExperimentStatus.RUNNING else None


@redis_errors
def save_stopped(client: redis.Redis, prefix: str, experiment: Experiment, final_results: dict[str, Any]) -> bool:
    """Mark stopped and write the final results, once. False when another caller stopped it first."""
    final_key = experiment_key(prefix, "final", experiment.experiment_id)
    if not client.set(final_key, json.dumps(final_results), nx=True):
        return False
    pipe = client.pipeline()
    pipe.set(experiment_key(prefix, "def", experiment.experiment_id), experiment.to_json())
    running_key = experiment_key(prefix, "running", experiment.model_type)
    pipe.get(running_key)
    _, current = pipe.execute()
    if current is not None and _text(current) == experiment.experiment_id:
        client.delete(running_key)
    return True


@redis_errors
def find_final_results(client: redis.Redis, prefix: str, experiment_id: str) -> dict[str, Any] | None:
    raw = client.get(experiment_key(prefix, "final", experiment_id))
    return json.loads(raw) if raw is not None else None


def record_exposure(client: redis.Redis, prefix: str, experiment_id: str, variant: str, *, success: bool,
                    latency_ms: float | None, latency_samples: int) -> None:
    """Count one request served by a variant (one round trip). Raises redis errors to the caller."""
    counts = experiment_key(prefix, "counts", experiment_id, variant)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(counts, "exposures", 1)
    pipe.hincrby(counts, "successes" if success else "failures", 1)
    if latency_ms is not None:
        latencies = experiment_key(prefix, "latency", experiment_id, variant)
        pipe.hincrbyfloat(counts, "latency_sum_ms", float(latency_ms))
        pipe.hincrby(counts, "latency_count", 1)
        pipe.lpush(latencies, f"{latency_ms:.4f}")
        pipe.ltrim(latencies, 0, latency_samples - 1)
    pipe.execute()


def record_batch_exposures(client: redis.Redis, prefix: str, experiment_id: str, variant: str, *, successes: int,
                           failures: int) -> None:
    """Count the events of one batch served by a variant. No latency: a batch's time is not a request's time."""
    counts = experiment_key(prefix, "counts", experiment_id, variant)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(counts, "exposures", successes + failures)
    pipe.hincrby(counts, "successes", successes)
    pipe.hincrby(counts, "failures", failures)
    pipe.execute()


def record_exposures(client: redis.Redis, prefix: str, experiment_id: str, variant: str, *,
                     latencies_ms: list[float], failures: int, latency_samples: int) -> None:
    """Count requests served by a variant in one round trip, as ``record_exposure`` once per request would: one
    success and one latency per entry of ``latencies_ms``, plus ``failures``. Raises redis errors to the caller."""
    counts = experiment_key(prefix, "counts", experiment_id, variant)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(counts, "exposures", len(latencies_ms) + failures)
    if latencies_ms:
        latencies = experiment_key(prefix, "latency", experiment_id, variant)
        pipe.hincrby(counts, "successes", len(latencies_ms))
        pipe.hincrbyfloat(counts, "latency_sum_ms", float(sum(latencies_ms)))
        pipe.hincrby(counts, "latency_count", len(latencies_ms))
        pipe.lpush(latencies, *[f"{ms:.4f}" for ms in latencies_ms])
        pipe.ltrim(latencies, 0, latency_samples - 1)
    if failures:
        pipe.hincrby(counts, "failures", failures)
    pipe.execute()


@redis_errors
def record_feedback_outcome(client: redis.Redis, prefix: str, experiment_id: str, variant: str,
                            correct: bool) -> None:
    """Count one piece of user feedback on a classification served by ``variant``: was the model right?

    Call it from the feedback path with the ``experimentId`` and ``variant`` the classification response carried.
    """
    counts = experiment_key(prefix, "counts", experiment_id, variant)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(counts, "feedback", 1)
    if correct:
        pipe.hincrby(counts, "correct", 1)
    pipe.execute()


@redis_errors
def read_counts(client: redis.Redis, prefix: str, experiment: Experiment) -> dict[str, dict[str, Any]]:
    """Per variant: the counters and the kept latencies (ms)."""
    pipe = client.pipeline(transaction=False)
    for v in experiment.variants:
        pipe.hgetall(experiment_key(prefix, "counts", experiment.experiment_id, v.name))
        pipe.lrange(experiment_key(prefix, "latency", experiment.experiment_id, v.name), 0, -1)
    replies = pipe.execute()
    out: dict[str, dict[str, Any]] = {}
    for i, v in enumerate(experiment.variants):
        raw = {(k.decode() if isinstance(k, bytes) else k): float(val) for k, val in replies[2 * i].items()}
        out[v.name] = {
            "exposures": int(raw.get("exposures", 0)), "successes": int(raw.get("successes", 0)),
            "failures": int(raw.get("failures", 0)), "latency_sum_ms": raw.get("latency_sum_ms", 0.0),
            "latency_count": int(raw.get("latency_count", 0)), "feedback": int(raw.get("feedback", 0)),
            "correct": int(raw.get("correct", 0)), "latencies": [float(x) for x in replies[2 * i + 1]],
        }
    return out
