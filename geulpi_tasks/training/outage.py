"""Training jobs that outlive a Redis outage."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS
from geulpi_tasks.training.job import run_training_job

log = logging.getLogger(__name__)

# A job restarts after at most this many Redis outages before it fails for good.
MAX_OUTAGE_RESTARTS = 5


def run_training_job_through_outages(request: dict[str, Any], *, redis_url: str, max_wait_s: float,
                                     **kwargs: Any) -> dict[str, Any]:
    """``run_training_job``, started again from its durable state when Redis goes away mid-job.

    An accepted job must not be lost to a short Redis outage: the attempt that met the outage stops, this waits
    until Redis answers again (up to ``max_wait_s`` per outage) and runs the job once more. Idempotency by job id
    (stored result, registered version, lease) makes the new attempt finish the job exactly once.
    """
    for restart in range(MAX_OUTAGE_RESTARTS + 1):
        try:
            return run_training_job(request, redis_url=redis_url, **kwargs)
        except Exception as err:
            outage = isinstance(err, REDIS_OUTAGE_ERRORS) or isinstance(err.__cause__, REDIS_OUTAGE_ERRORS)
            if not outage or restart == MAX_OUTAGE_RESTARTS:
                raise
            log.warning("training job %s met a Redis outage (%s); waiting for Redis to return", kwargs.get("job_id"),
                        err)
            wait_for_redis(redis_url, max_wait_s, err)
    raise AssertionError("unreachable")


def wait_for_redis(redis_url: str, max_wait_s: float, outage: BaseException) -> None:
    """Return once Redis answers a PING; re-raise ``outage`` if it stays away longer than ``max_wait_s``."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    deadline = time.monotonic() + max_wait_s
    delay = 0.5
    while True:
        try:
            client.ping()
            return
        except REDIS_OUTAGE_ERRORS:
            if time.monotonic() > deadline:
                raise outage from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
