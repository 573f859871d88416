"""Celery's Redis result backend without its two extra reads per call (issue 13).

- Worker side: before storing a result, Celery GETs the stored one so that a redelivered duplicate cannot overwrite
  a SUCCESS. Only late-acknowledged tasks (training) can run twice; an early-acked task (every inference task) is
  acknowledged before it runs, so it is never redelivered after it ran. For those the read is skipped: the store is
  one round trip (SET + PUBLISH) instead of two.
- Caller side: before waiting on its subscription, Celery GETs the stored result in case it was published before the
  SUBSCRIBE reached Redis. The SUBSCRIBE is written before the task is published, so that only happens if Redis
  reads the two connections out of order; here the stored result is read only if no message arrived within
  ``STORED_RESULT_CHECK_S`` — the same guarantee, one round trip less per call in the normal case.

Enabled by ``use_fast_backend(celery)`` (``result_backend = "workers.result_backend:FastRedisBackend+redis://..."``).
"""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator

from celery.backends.redis import RedisBackend, ResultConsumer
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.utils.encoding import bytes_to_str

STORED_RESULT_CHECK_S = 0.5
_CLASS = "workers.result_backend:FastRedisBackend"


class FastResultConsumer(ResultConsumer):
    def _wait_for_pending(self, result: Any, timeout: float | None = None, on_interval: Any = None,
                          on_message: Any = None, **kwargs: Any) -> Iterator[None]:
        prev_on_m, self.on_message = self.on_message, on_message  # type: ignore[has-type]
        started = time.monotonic()
        first = STORED_RESULT_CHECK_S if timeout is None else min(timeout, STORED_RESULT_CHECK_S)
        try:
            try:
                for _ in self.drain_events_until(result.on_ready, timeout=first, on_interval=on_interval):
                    yield
            except socket.timeout:
                pass
            if result.on_ready.ready:
                return
            self.on_wait_for_pending(result, timeout=timeout, **kwargs)  # the stored result, if it was missed
            rest = None if timeout is None else max(timeout - (time.monotonic() - started), 0.0)
            try:
                for _ in self.drain_events_until(result.on_ready, timeout=rest, on_interval=on_interval):
                    yield
            except socket.timeout:
                raise CeleryTimeout("The operation timed out.") from None
        finally:
            self.on_message = prev_on_m


class FastRedisBackend(RedisBackend):
    ResultConsumer = FastResultConsumer

    def _store_result(self, task_id: Any, result: Any, state: str, traceback: Any = None, request: Any = None,
                      **kwargs: Any) -> Any:
        if self._may_run_twice(request):
            return super()._store_result(task_id, result, state, traceback=traceback, request=request, **kwargs)
        meta = self._get_result_meta(result=result, state=state, traceback=traceback, request=request)
        meta["task_id"] = bytes_to_str(task_id)
        self._set_with_state(self.get_key_for_task(task_id), self.encode(meta), state)
        return result

    def _may_run_twice(self, request: Any) -> bool:
        name = getattr(request, "task", None)
        task = self.app.tasks.get(name) if isinstance(name, str) else None
        if task is None:  # unknown here: keep Celery's duplicate check
            return True
        acks_late = task.acks_late if task.acks_late is not None else self.app.conf.task_acks_late
        return bool(acks_late)


def use_fast_backend(celery: Any) -> None:
    """Point ``celery``'s result backend at FastRedisBackend when it is a Redis URL."""
    url = str(celery.conf.result_backend or "")
    if url.split("://", 1)[0] in {"redis", "rediss"}:
        celery.conf.result_backend = f"{_CLASS}+{url}"
