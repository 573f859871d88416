"""Concurrent single classifications in one API process travel to the inference workers as one message (issue 13).

Under load the cost of a classification is mostly per message: the publish, the worker taking it, storing and
publishing the result, the caller's subscription. Calls in the same process therefore share one, Nagle-style: at
most ``max_in_flight`` messages of single classifications are in flight per process; a call arriving while they are
opens (or joins) the next group, which leaves as soon as a slot frees (or after ``QUEUED_MAX_S``), with everyone who
arrived meanwhile, at most ``max_size``. A free slot still waits for calls already on their way inside the process
(a WSGI middleware counts them from the moment they enter the app), at most ``window_s``. The leader publishes one
``classify_coalesced`` task with every event, waits for its result and hands each caller its own answer; the
followers just wait for the leader. A lone caller never waits: nothing is in flight, nobody is on the way, and a
group of one is sent as the plain ``classify_event`` task.

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

# A group waits at most this long for a free slot (an earlier group of this process still in flight): a worker that
# died makes the waiting groups go anyway, so each caller still gets its 504 about one sync timeout later.
QUEUED_MAX_S = 1.0
# How long the peak of concurrent calls is remembered: a group waits (window_s at most) for as many as that peak.
PEAK_MEMORY_S = 1.0
# Where the WSGI middleware leaves a request's Arrival for the handler.
ARRIVAL = "geulpi.coalescer.arrival"
# A follower whose leader never came back (it cannot: the leader always finishes) still answers.
FOLLOWER_GRACE_S = 5.0


class Arrival:
    """A single classification on its way to the coalescer (counted from the moment it entered the WSGI app)."""

    __slots__ = ("_coalescer", "_pending")

    def __init__(self, coalescer: "Coalescer"):
        self._coalescer = coalescer
        self._pending = True

    def leave(self) -> None:
        """It joined a group or left without one (an error, async, explain); idempotent."""
        if self._pending:
            self._pending = False
            self._coalescer._arrived()


class _Call:
    __slots__ = ("event", "users", "request_id", "answer", "error")

    def __init__(self, event: dict[str, Any], users: list[str]):
        self.event = event
        self.users = users
        self.request_id = str(uuid.uuid4())
        self.answer: dict[str, Any] | None = None
        self.error: GeulpiError | None = None


class _Group:
    __slots__ = ("calls", "done")

    def __init__(self, call: _Call):
        self.calls = [call]
        self.done = threading.Event()


class Coalescer:
    """Thread-safe; one per API process (gunicorn gthread: one thread per request)."""

    def __init__(self, gateway: TaskGateway, *, window_s: float, max_size: int, max_in_flight: int = 1):
        self.gateway = gateway
        self.window_s = window_s
        self.max_size = max_size
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        self._calls_in_flight = 0
        self._peak = 0
        self._peak_since = 0.0
        self._cond = threading.Condition()
        self._open: _Group | None = None
        self._arriving = 0

    def arrive(self) -> Arrival:
        """Count a call that will reach ``classify`` (or leave) soon: a group's leader waits for such calls."""
        with self._cond:
            self._arriving += 1
            self._note_concurrency(0)
        return Arrival(self)

    def _arrived(self) -> None:
        with self._cond:
            self._arriving -= 1
            self._cond.notify_all()

    def counting(self, wsgi_app: Any, paths: Iterable[str]) -> Any:
        """WSGI middleware: POSTs to ``paths`` count as arriving from the moment they enter the app."""
        watched = frozenset(paths)

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") not in watched:
                return wsgi_app(environ, start_response)
            arrival = environ[ARRIVAL] = self.arrive()
            try:
                return wsgi_app(environ, start_response)
            finally:
                arrival.leave()

        return app

    def classify(self, event: dict[str, Any], *, users: Iterable[str], timeout: float,
                 arrival: Arrival | None = None) -> dict[str, Any]:
        """The answer ``classify_event`` gives for ``event`` (wire form); raises the same errors it would."""
        call = _Call(event, [u for u in users if u])
        group, leads = self._join(call, arrival)
        if leads:
            self._send(group, timeout)
        elif not group.done.wait(timeout + FOLLOWER_GRACE_S):
            raise Timeout(f"No inference worker answered within {timeout:g} s; the request was not processed "
                          "(retry, or use ?async=true and poll /tasks/<taskId>).",
                          details={"taskId": call.request_id, "timeoutSeconds": timeout})
        if call.error is not None:
            raise call.error
        assert call.answer is not None
        return call.answer

    def _join(self, call: _Call, arrival: Arrival | None) -> tuple[_Group, bool]:
        """The group this call is in, and whether it leads it (then the group is closed, counted in flight and
        ready to send)."""
        with self._cond:
            if arrival is not None and arrival._pending:
                arrival._pending = False
                self._arriving -= 1
            group = self._open
            if group is not None:
                group.calls.append(call)
                self._note_concurrency(0)
                if len(group.calls) >= self.max_size:
                    self._open = None
                self._cond.notify_all()
                return group, False
            group = _Group(call)
            self._note_concurrency(1)
            if self.max_size >= 2 and (self._in_flight >= self.max_in_flight
                                       or (self.window_s > 0 and self._missing(group) > 0)):
                self._open = group
                opened = time.monotonic()
                free_since: float | None = None
                # Gather while this process's earlier groups are in flight (at most QUEUED_MAX_S); once a slot is
                # free, for at most window_s while calls are on their way or the recent concurrency says more are
                # coming (the callers of the group just answered); stop as soon as the group is full.
                while self._open is group:
                    now = time.monotonic()
                    if self._in_flight >= self.max_in_flight and now - opened < QUEUED_MAX_S:
                        self._cond.wait(QUEUED_MAX_S - (now - opened))
                        continue
                    free_since = now if free_since is None else free_since
                    if self._missing(group) > 0 and now - free_since < self.window_s:
                        self._cond.wait(self.window_s - (now - free_since))
                        continue
                    break
                if self._open is group:
                    self._open = None
            self._in_flight += 1
            self._calls_in_flight += len(group.calls)
            return group, True

    def _missing(self, group: _Group) -> int:
        """Calls this group may still expect: those on their way, or (from the recent peak of concurrent calls)
        those not in flight and not in the group yet. Under the lock."""
        return max(self._arriving, self._peak - self._calls_in_flight - len(group.calls))

    def _note_concurrency(self, extra: int) -> None:
        """Track the peak number of calls in this process at once (on their way, gathering or in flight) over the
        last PEAK_MEMORY_S. Under the lock."""
        now = time.monotonic()
        current = self._arriving + self._calls_in_flight + extra + (len(self._open.calls) if self._open else 0)
        if now - self._peak_since > PEAK_MEMORY_S:
            self._peak, self._peak_since = current, now
        else:
            self._peak = max(self._peak, current)

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
            with self._cond:
                self._in_flight -= 1
                self._calls_in_flight -= len(calls)
                self._cond.notify_all()

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
