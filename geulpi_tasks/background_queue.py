"""Work handed off a task's thread to one background thread per process, which sends it to Redis later: the
prediction side writes (``workers/side_writes.py``) and the shadow's scoring (``inference/shadow.py``).

Fork-aware because Celery's prefork pool forks after the parent may have used it: a child starts its own queue,
thread and Redis client on first use. ``flush`` waits until everything queued so far was handled (or failed and was
logged), for shutdown and for tests.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable, Generic, TypeVar

import redis

T = TypeVar("T")


class BackgroundQueue(Generic[T]):
    """Subclasses implement ``_run`` (take from ``_queue``, then ``_done(slots)``) and enqueue with ``_put``."""

    def __init__(self, client_factory: Callable[[], redis.Redis], thread_name: str):
        self._client_factory = client_factory
        self._thread_name = thread_name
        self._client: redis.Redis | None = None
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0  # slots queued and not yet handled
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def _redis(self) -> redis.Redis:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _put(self, item: T, slots: int) -> None:
        self._ensure_thread()
        with self._lock:
            self._pending += slots
            self._idle.clear()
        self._queue.put(item)

    def _done(self, slots: int) -> None:
        with self._lock:
            self._pending -= slots
            if self._pending <= 0:
                self._pending = 0
                self._idle.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far was handled (or failed and was logged)."""
        return self._idle.wait(timeout)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._lock:
            if self._pid != pid:  # a forked child starts its own queue, thread and client
                self._queue = queue.SimpleQueue()
                self._client = None
                self._pending = 0
                self._idle.set()
                self._pid = pid
                self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError
