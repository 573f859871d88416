"""A training job's durable state in Redis: attempts, phase, the registered version and the final result.

The stored result is what makes a job idempotent by id: any later delivery of the same job returns it.
"""

from __future__ import annotations

import json
from typing import Any

from geulpi_tasks.training.keys import job_key

JOB_TTL_S = 14 * 24 * 3600
# The stage-2 matrices helpers read; deleted when the job ends, this only bounds what a failed job leaves behind.
STAGE2_TTL_S = 24 * 3600


class JobState:
    """The hash at ``<prefix>:training:job:<id>`` (see ``keys.job_key``)."""

    def __init__(self, client: Any, key_prefix: str, job_id: str):
        self.client = client
        self.key_prefix = key_prefix
        self.job_id = job_id
        self.key = job_key(key_prefix, job_id)

    def result(self) -> dict[str, Any] | None:
        stored = self.client.hget(self.key, "result")
        return None if stored is None else dict(json.loads(stored))

    def begin_attempt(self) -> int:
        attempt = int(self.client.hincrby(self.key, "attempts", 1))
        self.client.expire(self.key, JOB_TTL_S)
        return attempt

    def mark_running(self, model_name: str) -> None:
        self.client.hset(self.key, mapping={"state": "running", "model_name": model_name})

    def save_feedback_users(self, users: set[str]) -> None:
        """Whose feedback this job learns from, kept before registering so a resumed attempt can still record it."""
        self.client.hset(self.key, "feedback_users", json.dumps(sorted(users)))

    def feedback_users(self) -> set[str]:
        stored = self.client.hget(self.key, "feedback_users")
        return set() if stored is None else set(json.loads(stored))

    def mark_registered(self, version: str) -> None:
        self.client.hset(self.key, mapping={"state": "registered", "version": version})

    def finish(self, result: dict[str, Any]) -> None:
        self.client.hset(self.key, mapping={"state": "done", "result": json.dumps(result)})
        self.client.delete(job_key(self.key_prefix, self.job_id, "stage2"))

    def save_stage2(self, payload: bytes) -> None:
        """Publish the stage-2 matrices for search helpers on other workers."""
        self.client.set(job_key(self.key_prefix, self.job_id, "stage2"), payload, ex=STAGE2_TTL_S)
