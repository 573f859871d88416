"""Shadow deployments and their evidence in Redis, under ``<prefix>:shadow:``.

Keys (one helper, ``shadow_key``):
  ``running:<model>``        the running shadow of that model (JSON; SET NX: at most one per model)
  ``latest:<model>``         the model's most recent shadow, running or ended (JSON), so its summary stays readable
  ``counts:<id>``            hash of exact counters: scored, failed, dropped, latency and confidence sums, feedback
  ``classes:<id>``           hash ``<production class>|<shadow class>`` → events (the agreement matrix)
  ``latency:<id>:<side>``    newest model latencies (ms) of single classifications, ``production`` and ``shadow``
  ``event:<requestId>``      one shadowed event: both answers (class, confidence, latency), never its text; TTL
  ``by_user:<userId>``       request ids of a user's shadowed events (same TTL), so erasure finds them

Counters are written in one MULTI per batch of scored events, so they are exact and consistent with each other:
for every event, ``scored + failed + dropped`` counts it once and ``classes`` sums to ``scored``. Per-event
records expire after the feedback cache's TTL: feedback joins them only while it can still name the event.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Iterable

import redis

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, Conflict, Unavailable

# Newest latencies kept per side: enough for a stable p50/p95, bounded whatever the traffic.
LATENCY_SAMPLES = 2000
SEPARATOR = "|"


def shadow_key(key_prefix: str, *parts: str) -> str:
    """Every shadow key is built here."""
    return ":".join((key_prefix, "shadow", *parts))


class ShadowStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    PROMOTED = "promoted"


@dataclass(frozen=True)
class ShadowDeployment:
    """A version scoring a model's live traffic beside ``production_version`` (the version it is compared with)."""

    shadow_id: str
    model_name: str
    version: str
    production_version: str
    started_at: float
    status: ShadowStatus = ShadowStatus.RUNNING
    ended_at: float | None = None
    end_reason: str | None = None

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "status": self.status.value})

    @classmethod
    def from_json(cls, raw: str | bytes) -> "ShadowDeployment":
        data = json.loads(raw)
        return cls(**{**data, "status": ShadowStatus(data["status"])})

    def to_wire(self) -> dict[str, Any]:
        return {"shadowId": self.shadow_id, "modelName": self.model_name, "version": self.version,
                "productionVersion": self.production_version, "status": self.status.value,
                "startedAt": self.started_at, "endedAt": self.ended_at, "endReason": self.end_reason}


@dataclass(frozen=True)
class ShadowScore:
    """One event answered by production and scored by the shadow. Latencies only for single classifications
    (a batch's time is not one event's time)."""

    request_id: str | None
    user_id: str | None
    production_class: str
    production_confidence: float
    shadow_class: str
    shadow_confidence: float
    production_latency_ms: float | None = None
    shadow_latency_ms: float | None = None


def _outage(what: str, err: Exception) -> Unavailable:
    return Unavailable(f"Redis is unreachable; {what}. Retry shortly.", details={"dependency": "redis"})


def new_deployment(model_name: str, version: str, production_version: str, *, now: float | None = None
                   ) -> ShadowDeployment:
    return ShadowDeployment(uuid.uuid4().hex, model_name, str(version), str(production_version),
                            time.time() if now is None else now)


def save_running(client: redis.Redis, key_prefix: str, deployment: ShadowDeployment) -> ShadowDeployment:
    """Start ``deployment``; Conflict (naming the running one) when the model already has a running shadow."""
    try:
        if not client.set(shadow_key(key_prefix, "running", deployment.model_name), deployment.to_json(), nx=True):
            running = find_running(client, key_prefix, deployment.model_name)
            raise Conflict(f"Version {running.version if running else '?'} of '{deployment.model_name}' is already "
                           "shadowing production; stop it first (DELETE /models/<name>/shadow).",
                           code="shadow_running", details={"runningVersion": running.version if running else None,
                                                           "shadowId": running.shadow_id if running else None})
        client.set(shadow_key(key_prefix, "latest", deployment.model_name), deployment.to_json())
    except REDIS_OUTAGE_ERRORS as err:
        raise _outage("the shadow was not started", err) from err
    return deployment


def find_running(client: redis.Redis, key_prefix: str, model_name: str) -> ShadowDeployment | None:
    """The model's running shadow, or None. Raises Unavailable when Redis does not answer."""
    try:
        raw = client.get(shadow_key(key_prefix, "running", model_name))
    except REDIS_OUTAGE_ERRORS as err:
        raise _outage("the shadow deployment cannot be read", err) from err
    return ShadowDeployment.from_json(raw) if raw is not None else None


def find_latest(client: redis.Redis, key_prefix: str, model_name: str) -> ShadowDeployment | None:
    """The model's most recent shadow, running or ended, or None when none ever ran."""
    try:
        raw = client.get(shadow_key(key_prefix, "latest", model_name))
    except REDIS_OUTAGE_ERRORS as err:
        raise _outage("the shadow deployment cannot be read", err) from err
    return ShadowDeployment.from_json(raw) if raw is not None else None


def end_running(client: redis.Redis, key_prefix: str, deployment: ShadowDeployment, status: ShadowStatus,
                reason: str, *, now: float | None = None) -> ShadowDeployment:
    """Mark ``deployment`` ended; only the caller that removes the running key writes the ended record (a second
    stop finds nothing running)."""
    ended = ShadowDeployment(**{**asdict(deployment), "status": status,
                                "ended_at": time.time() if now is None else now, "end_reason": reason})
    running_key = shadow_key(key_prefix, "running", deployment.model_name)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.watch(running_key)
            raw = pipe.get(running_key)
            if raw is None or ShadowDeployment.from_json(raw).shadow_id != deployment.shadow_id:
                pipe.reset()
                latest = find_latest(client, key_prefix, deployment.model_name)
                return latest if latest is not None else ended
            pipe.multi()
            pipe.delete(running_key)
            pipe.set(shadow_key(key_prefix, "latest", deployment.model_name), ended.to_json())
            pipe.execute()
    except redis.WatchError:
        latest = find_latest(client, key_prefix, deployment.model_name)
        return latest if latest is not None else ended
    except REDIS_OUTAGE_ERRORS as err:
        raise _outage("the shadow was not stopped", err) from err
    return ended


def record_scores(client: Any, key_prefix: str, shadow_id: str, scores: Iterable[ShadowScore], *, failed: int = 0,
                  dropped: int = 0, record_ttl_s: int) -> int:
    """Count scored events (and events the shadow failed on or had to drop) in one MULTI; keep each event's pair of
    answers for ``record_ttl_s`` under its request id. Returns how many were scored. Raises redis errors."""
    counts = shadow_key(key_prefix, "counts", shadow_id)
    classes = shadow_key(key_prefix, "classes", shadow_id)
    pipe = client.pipeline(transaction=True)
    scored = 0
    latencies: dict[str, list[str]] = {"production": [], "shadow": []}
    sums = {"production_confidence_sum": 0.0, "shadow_confidence_sum": 0.0, "confidence_abs_shift_sum": 0.0,
            "production_latency_sum_ms": 0.0, "shadow_latency_sum_ms": 0.0}
    latency_count = 0
    pairs: dict[str, int] = {}
    for score in scores:
        scored += 1
        pair = f"{score.production_class}{SEPARATOR}{score.shadow_class}"
        pairs[pair] = pairs.get(pair, 0) + 1
        sums["production_confidence_sum"] += score.production_confidence
        sums["shadow_confidence_sum"] += score.shadow_confidence
        sums["confidence_abs_shift_sum"] += abs(score.shadow_confidence - score.production_confidence)
        if score.production_latency_ms is not None and score.shadow_latency_ms is not None:
            latency_count += 1
            sums["production_latency_sum_ms"] += score.production_latency_ms
            sums["shadow_latency_sum_ms"] += score.shadow_latency_ms
            latencies["production"].append(f"{score.production_latency_ms:.4f}")
            latencies["shadow"].append(f"{score.shadow_latency_ms:.4f}")
        if score.request_id:
            record = shadow_key(key_prefix, "event", score.request_id)
            pipe.hset(record, mapping={"shadowId": shadow_id, "productionClass": score.production_class,
                                       "productionConfidence": score.production_confidence,
                                       "shadowClass": score.shadow_class, "shadowConfidence": score.shadow_confidence})
            pipe.expire(record, record_ttl_s)
            if score.user_id is not None:
                index = shadow_key(key_prefix, "by_user", score.user_id)
                pipe.sadd(index, score.request_id)
                pipe.expire(index, record_ttl_s)
    for field, value in (("scored", scored), ("failed", failed), ("dropped", dropped),
                         ("latency_count", latency_count)):
        if value:
            pipe.hincrby(counts, field, value)
    for field, total in sums.items():
        if total:
            pipe.hincrbyfloat(counts, field, total)
    for pair, n in pairs.items():
        pipe.hincrby(classes, pair, n)
    for side, values in latencies.items():
        if values:
            key = shadow_key(key_prefix, "latency", shadow_id, side)
            pipe.lpush(key, *values)
            pipe.ltrim(key, 0, LATENCY_SAMPLES - 1)
    pipe.execute()
    return scored


def record_feedback_outcome(client: Any, key_prefix: str, request_id: str, category: str) -> bool:
    """Score both versions' answers to one shadowed event against a user's correction, once per event (a second
    correction of the same event does not count again). False when the event was not shadowed (or its record
    expired). Raises redis errors to the caller."""
    record_key = shadow_key(key_prefix, "event", request_id)
    record = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in client.hgetall(record_key).items()}
    if not record.get("shadowId") or not client.hsetnx(record_key, "judged", category):
        return False
    counts = shadow_key(key_prefix, "counts", record["shadowId"])
    pipe = client.pipeline(transaction=True)
    pipe.hincrby(counts, "feedback", 1)
    pipe.hincrby(counts, "production_correct", int(record.get("productionClass") == category))
    pipe.hincrby(counts, "shadow_correct", int(record.get("shadowClass") == category))
    pipe.execute()
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_evidence(client: redis.Redis, key_prefix: str, shadow_id: str) -> dict[str, Any]:
    """``{"counts": {...}, "classes": {"A|B": n}, "latency": {"production": [...], "shadow": [...]}}`` in one round
    trip. Raises Unavailable when Redis does not answer."""
    try:
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(shadow_key(key_prefix, "counts", shadow_id))
        pipe.hgetall(shadow_key(key_prefix, "classes", shadow_id))
        pipe.lrange(shadow_key(key_prefix, "latency", shadow_id, "production"), 0, -1)
        pipe.lrange(shadow_key(key_prefix, "latency", shadow_id, "shadow"), 0, -1)
        counts, classes, production, shadow = pipe.execute()
    except REDIS_OUTAGE_ERRORS as err:
        raise _outage("the shadow's figures cannot be read", err) from err
    return {"counts": {_text(k): float(v) for k, v in counts.items()},
            "classes": {_text(k): int(v) for k, v in classes.items()},
            "latency": {"production": [float(v) for v in production], "shadow": [float(v) for v in shadow]}}


def delete_user_shadow_records(client: Any, key_prefix: str, user_id: str) -> int:
    """Delete the per-event shadow records of ``user_id``'s events and their index; the anonymous counters stay.
    Returns how many records were deleted. Raises redis errors to the caller."""
    index = shadow_key(key_prefix, "by_user", user_id)
    request_ids = [_text(r) for r in client.smembers(index)]
    deleted = int(client.delete(*[shadow_key(key_prefix, "event", r) for r in request_ids])) if request_ids else 0
    client.delete(index)
    return deleted
