"""A circuit breaker per queue for synchronous calls, so a queue with no live worker costs one wait, not one per call.

Without it every request thread waits out the full sync timeout while no worker consumes; the server's threads fill
up and later calls queue before their own timeout even starts (seen in the kill -9 drill: calls took 14 s against
a 10 s timeout). A timeout alone does not open the breaker: a lost message or a backlog also time out while workers
live. So on a timeout the breaker asks whether any worker of that queue answers a ping; only if none does, calls on
the queue answer 503 at once for a cool-down. After it, one caller pings again (the half-open probe) while the
others keep answering 503; a reply closes the breaker and that caller's call goes ahead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from geulpi_tasks.errors import Unavailable

log = logging.getLogger(__name__)


@dataclass
class _Open:
    until: float
    probing: bool = False


class QueueBreaker:
    def __init__(self, cooldown_s: float, alive: Callable[[str], bool]):
        self.cooldown_s = cooldown_s
        self._alive = alive
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()

    def _worker_answers(self, queue: str) -> bool:
        try:
            return self._alive(queue)
        except Exception as err:  # noqa: BLE001 - a broker fault here means no worker can be reached either
            log.warning("could not ping %s workers: %s", queue, err)
            return False

    def _unavailable(self, queue: str, wait: float) -> Unavailable:
        return Unavailable(f"No {queue} worker is answering; not waiting for one for another {wait:.1f} s "
                           "(retry shortly).",
                           details={"dependency": f"{queue}_worker", "retryAfterSeconds": round(wait, 1)})

    def before_call(self, queue: str) -> None:
        """Raise Unavailable while the queue's breaker is open; the first caller after the cool-down probes."""
        with self._lock:
            state = self._open.get(queue)
            if state is None:
                return
            now = time.monotonic()
            if now < state.until or state.probing:
                raise self._unavailable(queue, max(state.until - now, 0.0))
            state.probing = True
        if self._worker_answers(queue):
            with self._lock:
                self._open.pop(queue, None)
            return
        with self._lock:
            state.probing = False
            state.until = time.monotonic() + self.cooldown_s
        raise self._unavailable(queue, self.cooldown_s)

    def timed_out(self, queue: str) -> None:
        """A sync call on ``queue`` got no answer: open the breaker unless a worker of the queue still answers."""
        if self._worker_answers(queue):
            return
        with self._lock:
            self._open[queue] = _Open(until=time.monotonic() + self.cooldown_s)

    def is_open(self, queue: str) -> bool:
        with self._lock:
            return queue in self._open
