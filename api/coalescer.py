"""Concurrent single classifications in one API process travel to the inference workers as one message (issue 13).

Under load the cost of a classification is mostly per message: the publish, the worker taking it, storing and
publishing the result, the caller's subscription. Calls that arrive within ``window_s`` of each other in the same
process therefore share one: the first call (the leader) waits up to the window for others to join its group (or
until ``max_size`` joined), publishes one ``classify_coalesced`` task with every event, waits for its result and
hands each caller its own answer; the others (followers) just wait for the leader. A call that arrives while no
other call of this process was busy in the last ``BUSY_MEMORY_S`` does not wait at all, and a group of one is sent
as the plain ``classify_event`` task, so a lone caller pays nothing for this.

Each caller still gets exactly its own answer: its own ``requestId`` (its own or a fresh one, never the group's),
its own sticky A/B variant, its own error (an event that fails costs no other). A timeout is a 504 for every
caller of the group, each with its own ``taskId`` that ``/tasks/<id>`` answers with that caller's part only.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Iterable

from api.gateway import TaskGateway
from geulpi_tasks.errors import GeulpiError, Timeout, error_from_dict, error_to_wire
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT

log = logging.getLogger(__name__)

# Calls keep coalescing this long after two were last seen at once in this process.
BUSY_MEMORY_S = 0.05
# A follower whose leader never came back (it cannot: the leader always finishes) still answers.
FOLLOWER_GRACE_S = 5.0
_LEAD, _LEAD_AND_WAIT, _FOLLOW = "lead", "lead and wait", "follow"


class _Call:
    __slots__ = ("event", "users", "request_id", "answer", "error")

    def __init__(self, event: dict[str, Any], users: list[str]):
        self.event = event
        self.users = users
        self.request_id = str(uuid.uuid4())
        self.answer: dict[str, Any] | None = None
        self.error: GeulpiError | None = None


class _Group:
    __slots__ = ("calls", "full", "done")

    def __init__(self, call: _Call):
        self.calls = [call]
        self.full = threading.Event()
        self.done = threading.Event()


class Coalescer:
    """Thread-safe; one per API process (gunicorn gthread: one thread per request)."""

    def __init__(self, gateway: TaskGateway, *, window_s: float, max_size: int):
        self.gateway = gateway
        self.window_s = window_s
        self.max_size = max_size
        self._lock = threading.Lock()
        self._open: _Group | None = None
        self._active = 0
        self._busy_until = 0.0

    def classify(self, event: dict[str, Any], *, users: Iterable[str], timeout: float) -> dict[str, Any]:
        """The answer ``classify_event`` gives for ``event`` (wire form); raises the same errors it would."""
        call = _Call(event, [u for u in users if u])
        group, role = self._join(call)
        try:
            if role == _FOLLOW:
                if not group.done.wait(timeout + FOLLOWER_GRACE_S):
                    raise Timeout(f"No inference worker answered within {timeout:g} s; the request was not "
                                  "processed (retry, or use ?async=true and poll /tasks/<taskId>).",
                                  details={"taskId": call.request_id, "timeoutSeconds": timeout})
            else:
                if role == _LEAD_AND_WAIT:
                    group.full.wait(self.window_s)
                    with self._lock:
                        if self._open is group:
                            self._open = None
                self._send(group, timeout)
        finally:
            with self._lock:
                self._active -= 1
        if call.error is not None:
            raise call.error
        assert call.answer is not None
        return call.answer

    def _join(self, call: _Call) -> tuple[_Group, str]:
        """The group this call is in, and its role in it."""
        now = time.monotonic()
        with self._lock:
            self._active += 1
            if self._active > 1:
                self._busy_until = now + BUSY_MEMORY_S
            group = self._open
            if group is not None:
                group.calls.append(call)
                if len(group.calls) >= self.max_size:
                    self._open = None
                    group.full.set()
                return group, _FOLLOW
            group = _Group(call)
            if self.window_s > 0 and self.max_size > 1 and now < self._busy_until:
                self._open = group
                return group, _LEAD_AND_WAIT
            return group, _LEAD

    def _send(self, group: _Group, timeout: float) -> None:
        calls = group.calls
        try:
            if len(calls) == 1:
                self._send_one(calls[0], timeout)
            else:
                self._send_many(calls, timeout)
        except Exception:  # noqa: BLE001 - a bug here must not leave the group's callers without an answer
            log.exception("a coalesced classification failed unexpectedly")
            for call in calls:
                if call.answer is None and call.error is None:
                    call.error = GeulpiError("An unexpected error occurred; it has been logged.",
                                             code="internal_error")
        finally:
            group.done.set()

    def _send_one(self, call: _Call, timeout: float) -> None:
        try:
            call.answer = self.gateway.run(CLASSIFY_EVENT, [call.event], timeout=timeout, users=call.users)
        except GeulpiError as err:
            call.error = err

    def _send_many(self, calls: list[_Call], timeout: float) -> None:
        users = [u for call in calls for u in call.users]
        try:
            outcome = self.gateway.run(CLASSIFY_COALESCED, [[c.event for c in calls], [c.request_id for c in calls]],
                                       timeout=timeout, users=users, remember_on_timeout=False)
        except Timeout as err:
            batch_id = str(err.details.get("taskId", ""))
            for i, call in enumerate(calls):
                self.gateway.remember_part(call.request_id, batch_id, i)
                call.error = Timeout(err.message, code=err.code,
                                     details={**err.details, "taskId": call.request_id})
            return
        except GeulpiError as err:  # the whole group's failure (broker down, breaker open): each caller's own copy
            for call in calls:
                call.error = error_from_dict(error_to_wire(err))
            return
        results = outcome.get("results") if isinstance(outcome, dict) else None
        if not isinstance(results, list) or len(results) != len(calls):
            for call in calls:
                call.error = GeulpiError("The inference worker answered a coalesced call in a shape this API "
                                         "does not know; retry.", code="bad_worker_answer")
            return
        for call, result in zip(calls, results):
            if isinstance(result, dict) and isinstance(result.get("error"), dict):
                call.error = error_from_dict(result["error"])
            else:
                call.answer = result
