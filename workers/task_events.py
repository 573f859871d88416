"""Task events at the price they are worth: every one for training, monitoring and batches, a sampled share for
the single-event classification, which is frequent and takes well under a millisecond.

A task event is a Redis PUBLISH from the worker (received, started, succeeded: three per task), one more from the
API (``task-sent``), and Python work in Flower for each. For a classification answered in a few milliseconds that
was a large part of its cost (issue 13), while Flower needs only some of them: workers stay visible through their
heartbeats, and a sampled share of classifications still shows names, JSON arguments, results and run times.

The sample is decided by the task id (uuid4: its first 32 bits are random), so the API and the worker agree on it
without talking: a sampled task has its whole story in Flower (sent, received, started, succeeded). Failures,
retries, rejections and revocations are always sent, with the task's name and arguments.
"""

from __future__ import annotations

import zlib
from typing import Any

from celery.worker.request import Request

ALWAYS = frozenset({"task-failed", "task-retried", "task-rejected", "task-revoked"})


def sampled(task_id: str | None, share: float) -> bool:
    """Whether this task's events are sent, for a share in [0, 1]; the same answer in every process."""
    if share >= 1.0:
        return True
    if share <= 0.0 or not task_id:
        return False
    head = task_id.replace("-", "")[:8]
    try:
        value = int(head, 16) if len(head) == 8 else zlib.crc32(task_id.encode())
    except ValueError:
        value = zlib.crc32(task_id.encode())
    return value < share * 2**32


def _share(app: Any) -> float:
    settings = getattr(app.conf, "geulpi_settings", None)
    return float(getattr(settings, "inference_events_share", 1.0))


class SampledEventsRequest(Request):
    """Worker-side request of a task declared with ``send_events=False``: sends its events only when sampled
    (and always for failures), including the ``task-received`` that Celery's strategy skips for such a task."""

    def _events_on(self) -> bool:
        return bool(self._eventer and self._eventer.enabled)

    def _send_received(self) -> None:
        self._eventer.send("task-received", uuid=self.id, name=self.name, args=self.argsrepr,
                           kwargs=self.kwargsrepr, root_id=self.root_id, parent_id=self.parent_id,
                           retries=self.request_dict.get("retries", 0), eta=self.eta and self.eta.isoformat(),
                           expires=self.expires and self.expires.isoformat())

    def execute_using_pool(self, pool: Any, **kwargs: Any) -> Any:
        if self._events_on() and sampled(self.id, _share(self._app)):
            self._send_received()
        return super().execute_using_pool(pool, **kwargs)

    def send_event(self, type: str, **fields: Any) -> None:  # noqa: A002 - Celery's signature
        if not self._events_on():
            return
        if sampled(self.id, _share(self._app)):
            self._eventer.send(type, uuid=self.id, **fields)
        elif type in ALWAYS:  # an unsampled failure still shows in Flower, named and with its arguments
            self._send_received()
            self._eventer.send(type, uuid=self.id, **fields)
