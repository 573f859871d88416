"""The bookkeeping writes of a classification (feedback cache, prediction log) leave the task's thread: they are
queued and a background thread in each worker process sends everything queued in one pipeline (issue 13).

Before, each classification made two more Redis round trips after storing its result (one SET pipeline for the
feedback cache, one XADD pipeline for the prediction log), which the next task on that pool slot waited for. Now a
task only appends to a queue; under load, one round trip carries the writes of many tasks. Nothing is dropped: the
queue is unbounded, a Redis error is logged with the number of records it cost (as the signal handlers did), and
the queue is drained when the worker shuts down.
"""

from __future__ import annotations

import logging
import queue
from typing import Any, Callable

import redis

from geulpi_tasks.background_queue import BackgroundQueue

log = logging.getLogger(__name__)

Write = Callable[[Any], object]  # adds commands to the given pipeline
MAX_PER_PIPELINE = 500


class _Into:
    """A redis client stand-in whose ``pipeline()`` is the flusher's shared pipeline and whose ``execute()`` waits
    for the flusher: the existing writers (``remember_classified``, ``record_predictions``) work unchanged."""

    def __init__(self, pipe: Any):
        self._pipe = pipe

    def pipeline(self, transaction: bool = False) -> "_Into":
        return self

    def execute(self) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)


class SideWriter(BackgroundQueue["tuple[str, Write] | None"]):
    def __init__(self, client_factory: Callable[[], redis.Redis]):
        super().__init__(client_factory, "side-writes")

    def submit(self, what: str, write: Write) -> None:
        """Queue ``write(pipeline)``; ``what`` names it in the warning if Redis refuses it."""
        self._put((what, write), 1)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < MAX_PER_PIPELINE:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._send([b for b in batch if b is not None])
            self._done(len(batch))

    def _send(self, batch: list[tuple[str, Write]]) -> None:
        if not batch:
            return
        try:
            pipe = self._redis().pipeline(transaction=False)
            into = _Into(pipe)
            for what, write in batch:
                try:
                    write(into)
                except Exception:  # noqa: BLE001 - one malformed record must not cost the others
                    log.exception("side write %s could not be prepared", what)
            pipe.execute()
        except (redis.exceptions.RedisError, OSError) as err:
            kinds: dict[str, int] = {}
            for what, _ in batch:
                kinds[what] = kinds.get(what, 0) + 1
            log.warning("side writes not stored (%s): %s", err, kinds)


_writer: SideWriter | None = None


def side_writer(redis_url: str) -> SideWriter:
    """This process's writer (one per process; a forked child gets its own thread on first use)."""
    global _writer
    if _writer is None:
        _writer = SideWriter(lambda: redis.Redis.from_url(redis_url, socket_timeout=5.0, socket_connect_timeout=2.0))
    return _writer


def flush_side_writes(**_: Any) -> None:
    if _writer is not None and not _writer.flush(10.0):
        log.warning("side writes still queued at shutdown")
