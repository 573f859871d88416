"""The serving side of a shadow deployment: after production answered (and the answer was stored), the same events
are scored by the shadow version in a background thread of the inference process, and both answers are counted.

The caller's path only pays a cached lookup of the running shadow and a queue append; the shadow model is loaded,
run and its figures written off that path, in rounds (``ROUND_WINDOW_S``): one vectorised prediction and one Redis
MULTI per round, with one single classification per round timed alone for the latency comparison. Nothing of the
shadow reaches the answer. Events stay in this process's memory until scored, and only their answers (class,
confidence, latency) are written. Events answered by another version than the production version the shadow
compares with (an A/B variant, a production that moved) are not shadowed. If the queue is full (the shadow cannot
keep up), events are counted as ``dropped``, so every event the shadow saw is counted exactly once: scored, failed
or dropped.
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import redis

from geulpi_tasks.background_queue import BackgroundQueue
from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, GeulpiError, Unavailable
from geulpi_tasks.inference.classification import classify_events
from geulpi_tasks.inference.model_provider import ModelProvider
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.shadow.store import ShadowDeployment, ShadowScore, find_running, record_scores

log = logging.getLogger(__name__)

# Events waiting for the shadow per process; beyond this the shadow is behind and new events are dropped (counted).
MAX_QUEUED_EVENTS = 20_000
# Events scored and written per round (one vectorised prediction, one MULTI).
MAX_PER_ROUND = 500
# A round collects events this long after its first one: under traffic the shadow's CPU and Redis writes are paid
# once per round, not once per event, so production's tasks rarely wait for it.
ROUND_WINDOW_S = 0.25


@dataclass
class ShadowJob:
    """One classification task's events as production answered them: ``(event wire, answer)`` pairs."""

    deployment: ShadowDeployment
    single: bool
    items: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = field(default_factory=list)
    dropped: int = 0


class ShadowScorer(BackgroundQueue[ShadowJob]):
    """One per inference process (a forked child starts its own thread). Thread-safe."""

    def __init__(self, provider: ModelProvider, client_factory: Callable[[], redis.Redis], *, key_prefix: str,
                 model_name: str, cache_ttl_s: float, record_ttl_s: int, review_threshold: float,
                 max_queued: int = MAX_QUEUED_EVENTS):
        self.provider = provider
        self.key_prefix = key_prefix
        self.model_name = model_name
        self.cache_ttl_s = cache_ttl_s
        self.record_ttl_s = record_ttl_s
        self.review_threshold = review_threshold
        self.max_queued = max_queued
        self._cached: tuple[float, ShadowDeployment | None] | None = None
        super().__init__(client_factory, "shadow-scorer")

    def running(self) -> ShadowDeployment | None:
        """The model's running shadow as read at most ``cache_ttl_s`` ago; None (logged) when Redis is down."""
        cached = self._cached
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.cache_ttl_s:
            return cached[1]
        try:
            deployment = find_running(self._redis(), self.key_prefix, self.model_name)
        except Unavailable as err:
            log.warning("shadow lookup failed, not shadowing: %s", err.message)
            deployment = None
        self._cached = (now, deployment)
        return deployment

    def submit(self, items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *, single: bool,
               received_at: float | None = None) -> int:
        """Queue one task's ``(event wire, production answer)`` pairs for the running shadow, if any; returns how
        many were queued. A task that started (``received_at``, wall clock) before the shadow did is not shadowed,
        so "every classification after the start" is exact; nor are answers from another version than the one the
        shadow compares with."""
        deployment = self.running()
        if deployment is None or (received_at is not None and received_at < deployment.started_at):
            return 0
        kept = [(event, answer) for event, answer in items
                if str(answer.get("modelVersion")) == deployment.production_version]
        if not kept:
            return 0
        with self._lock:  # a soft bound: two tasks passing it at once may queue a little over it
            full = self._pending + len(kept) > self.max_queued
        self._put(ShadowJob(deployment, single, dropped=len(kept)) if full
                  else ShadowJob(deployment, single, list(kept)), 1 if full else len(kept))
        return 0 if full else len(kept)

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            events = len(jobs[0].items) or 1
            # Sleep, not a timed get: a get would wake this thread (and take the GIL) on every queued task.
            time.sleep(ROUND_WINDOW_S)
            while events < MAX_PER_ROUND:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                events += len(job.items) or 1
            done = 0
            for deployment, group in _by_deployment(jobs).items():
                done += self._score_and_write(deployment, group)
            self._done(done)

    def _score_and_write(self, deployment: ShadowDeployment, jobs: list[ShadowJob]) -> int:
        """Score ``jobs`` with the shadow and write their figures; returns how many queue slots they held."""
        scores: list[ShadowScore] = []
        failed = 0
        try:
            model = self.provider.get_version(deployment.version)
        except GeulpiError as err:
            log.warning("shadow version %s could not be loaded: %s", deployment.version, err.message)
            model = None
        dropped = sum(job.dropped for job in jobs)
        scoring = [job for job in jobs if job.items]
        if model is None:
            failed = sum(len(job.items) for job in scoring)
        elif scoring:
            try:
                scores = self._score(model, scoring)
            except Exception:  # noqa: BLE001 - the shadow failing must never touch production; counted, logged
                failed = sum(len(job.items) for job in scoring)
                log.exception("shadow version %s failed on %d events", deployment.version, failed)
        slots = sum(len(job.items) or 1 for job in jobs)
        try:
            record_scores(self._redis(), self.key_prefix, deployment.shadow_id, scores, failed=failed,
                          dropped=dropped, record_ttl_s=self.record_ttl_s)
        except REDIS_OUTAGE_ERRORS as err:
            log.warning("shadow figures not stored (%s): %d scored, %d failed, %d dropped", err, len(scores), failed,
                        dropped)
        return slots


    def _score(self, model: Any, jobs: list[ShadowJob]) -> list[ShadowScore]:
        """One vectorised prediction for the round; the first single classification is also timed alone, beside
        production's time for the same event (a sample: timing every event alone would cost what batching saves)."""
        parsed = [parse_event(event) for job in jobs for event, _ in job.items]
        answers = classify_events(model, parsed, review_threshold=self.review_threshold)
        timed = next((i for i, (job, _) in enumerate(_flat(jobs)) if job.single), None)
        elapsed_ms = None
        if timed is not None:
            started = time.perf_counter()
            classify_events(model, [parsed[timed]], review_threshold=self.review_threshold)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
        scores = []
        for i, ((_, (_, production)), event, shadow) in enumerate(zip(_flat(jobs), parsed, answers)):
            latency = production.get("latencyMs") if i == timed else None
            scores.append(ShadowScore(
                request_id=str(production["requestId"]) if production.get("requestId") else None,
                user_id=event.user_id, production_class=str(production.get("eventType")),
                production_confidence=float(production.get("confidence") or 0.0),
                shadow_class=str(shadow["eventType"]), shadow_confidence=float(shadow["confidence"]),
                production_latency_ms=float(latency) if isinstance(latency, (int, float)) else None,
                shadow_latency_ms=elapsed_ms if isinstance(latency, (int, float)) else None))
        return scores


def _flat(jobs: list[ShadowJob]) -> list[tuple[ShadowJob, tuple[Mapping[str, Any], Mapping[str, Any]]]]:
    return [(job, item) for job in jobs for item in job.items]


def _by_deployment(jobs: list[ShadowJob]) -> dict[ShadowDeployment, list[ShadowJob]]:
    groups: dict[ShadowDeployment, list[ShadowJob]] = {}
    for job in jobs:
        groups.setdefault(job.deployment, []).append(job)
    return groups

