"""At most one live attempt per training job."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Callable

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS

log = logging.getLogger(__name__)


class JobLease:
    """A Redis key set NX and refreshed every ``heartbeat_s`` while the attempt runs. A duplicate delivery waits
    while the holder lives and takes over when its key expires (it died).

    Use as a context manager around ``acquire``: leaving it stops the heartbeat and releases the key if still ours.
    """

    def __init__(self, client: Any, key: str, heartbeat_s: float):
        self._client, self._key = client, key
        self._token = uuid.uuid4().hex
        self._ttl_ms = max(1000, int(heartbeat_s * 3000))
        self._interval = heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-lease", daemon=True)

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    def acquire(self, finished: Callable[[], bool]) -> bool:
        """True once held; False if another attempt finished the job meanwhile."""
        while not self._client.set(self._key, self._token, nx=True, px=self._ttl_ms):
            if finished():
                return False
            time.sleep(min(1.0, self._interval))
        self._thread.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self._client.get(self._key) == self._token.encode():
                    self._client.pexpire(self._key, self._ttl_ms)
            except REDIS_OUTAGE_ERRORS as err:  # a missed beat only risks a duplicate waiting less
                log.warning("job lease refresh failed: %s", err)

    def __enter__(self) -> "JobLease":
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            if self._client.get(self._key) == self._token.encode():
                self._client.delete(self._key)
        except REDIS_OUTAGE_ERRORS as err:  # the key expires by itself; never hide the job's own outcome
            log.warning("job lease release failed (it expires in %d ms): %s", self._ttl_ms, err)
