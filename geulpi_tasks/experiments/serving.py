"""The inference side of experiments: which version serves this caller, and counting what each variant served.

An ``ExperimentRouter`` lives in each inference process. It re-reads the running experiment of its model from
Redis at most every ``cache_ttl_s`` seconds, so the hot path costs one dictionary lookup and one hash; recording
an exposure is one pipelined Redis round trip.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, Unavailable
from geulpi_tasks.experiments.assignment import assign_variant
from geulpi_tasks.experiments.store import (
    Experiment,
    find_running_experiment,
    record_batch_exposures,
    record_exposure,
    record_exposures,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arm:
    """The variant a request was assigned to."""

    experiment_id: str
    variant: str
    version: str

    def to_wire(self) -> dict[str, Any]:
        return {"experimentId": self.experiment_id, "variant": self.variant}


class ExperimentRouter:
    """Thread-safe; one per process. ``route`` never raises for a Redis outage: it serves production instead."""

    def __init__(self, client: redis.Redis, *, prefix: str, model_name: str, cache_ttl_s: float,
                 latency_samples: int):
        self.client = client
        self.prefix = prefix
        self.model_name = model_name
        self.cache_ttl_s = cache_ttl_s
        self.latency_samples = latency_samples
        self._cached: tuple[float, Experiment | None] | None = None
        self._lock = threading.Lock()

    def running(self) -> Experiment | None:
        """The running experiment of this model, as read at most ``cache_ttl_s`` ago."""
        cached = self._cached
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.cache_ttl_s:
            return cached[1]
        with self._lock:
            try:
                experiment = find_running_experiment(self.client, self.prefix, self.model_name)
            except Unavailable as err:
                log.warning("experiment lookup failed, serving production: %s", err.message)
                experiment = None
            self._cached = (now, experiment)
            return experiment

    def route(self, unit_id: str | None) -> Arm | None:
        """The arm for this caller (sticky by id, random without one), or None when no experiment runs."""
        experiment = self.running()
        if experiment is None:
            return None
        name = assign_variant(experiment.experiment_id, unit_id,
                              [(v.name, v.traffic_percentage) for v in experiment.variants])
        return Arm(experiment.experiment_id, name, experiment.variant(name).version)

    def record_batch(self, arm: Arm, *, successes: int, failures: int = 0) -> None:
        """Count the events of a batch served by ``arm``; a Redis outage loses these counts, logged."""
        try:
            record_batch_exposures(self.client, self.prefix, arm.experiment_id, arm.variant, successes=successes,
                                   failures=failures)
        except REDIS_OUTAGE_ERRORS as err:
            log.warning("could not record %d exposures of %s/%s: %s", successes + failures, arm.experiment_id,
                        arm.variant, err)

    def record_many(self, arm: Arm, *, latencies_ms: list[float], failures: int = 0) -> None:
        """Count several requests served by ``arm`` (one latency per success) in one round trip; a Redis outage
        loses these counts, logged, never the answers."""
        try:
            record_exposures(self.client, self.prefix, arm.experiment_id, arm.variant, latencies_ms=latencies_ms,
                             failures=failures, latency_samples=self.latency_samples)
        except REDIS_OUTAGE_ERRORS as err:
            log.warning("could not record %d exposures of %s/%s: %s", len(latencies_ms) + failures,
                        arm.experiment_id, arm.variant, err)

    def record(self, arm: Arm, *, success: bool, latency_ms: float | None) -> None:
        """Count one request served by ``arm``; a Redis outage loses this one count, logged, never the answer."""
        try:
            record_exposure(self.client, self.prefix, arm.experiment_id, arm.variant, success=success,
                            latency_ms=latency_ms, latency_samples=self.latency_samples)
        except REDIS_OUTAGE_ERRORS as err:
            log.warning("could not record an exposure of %s/%s: %s", arm.experiment_id, arm.variant, err)
