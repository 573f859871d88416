"""How the API hands work to workers: publish by task name, wait with a timeout, or report a task's state.

Broker and backend faults become ``Unavailable`` (503); no answer in time becomes ``Timeout`` (504). With
DISABLE_REDIS the same calls run the task in this process (limited mode: no Beat, no shared state).
"""

from __future__ import annotations

import atexit
import uuid
from typing import Any, Iterable

from celery import Celery
from celery.exceptions import TaskRevokedError
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from kombu.exceptions import LimitExceeded, OperationalError

from api.breaker import QueueBreaker
from api.task_repr import args_repr
from celeryconfig import is_amqp
from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, NotFound, RemoteError, Timeout, Unavailable, error_from_dict
from geulpi_tasks.privacy.erasure import remember_user_tasks
from workers.side_writes import SideWriter
from workers.task_events import sampled
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT

_INFRA_ERRORS: tuple[type[BaseException], ...] = (OperationalError, *REDIS_OUTAGE_ERRORS)

# No free confirm-mode connection in time is an outage as well.
_SUBMIT_ERRORS: tuple[type[BaseException], ...] = (*_INFRA_ERRORS, LimitExceeded)

SUBMITTED_TTL_S = 24 * 3600
# The marker of an accepted task says whether its result is short-lived (classification, analyses: the queue's
# answers hold the user's data) or a job people poll (training, compare).
SHORT_LIVED, POLLED = "short", "job"
# The marker of one caller's part of a coalesced classification (api/coalescer.py): "part:<task id>:<index>".
PART = "part:"
# Over RabbitMQ an accepted (202) job is published with a publisher confirm; a broker that never confirms (or no free
# confirm-mode connection) must not hang a request thread.
PUBLISH_CONFIRM_TIMEOUT_S = 2.0
CONFIRMED_CONNECTIONS = 8


def _confirmed_pool(celery: Celery) -> Any:
    """RabbitMQ only: connections in publisher-confirm mode, so a 202 means RabbitMQ has the job (without confirms
    a publish is fire-and-forget). Sync calls and workers' events skip it: a confirm costs a round trip, and a lost
    sync call already ends in a 504."""
    if not is_amqp(str(celery.conf.broker_url)):
        return None
    options = {**(celery.conf.broker_transport_options or {}), "confirm_publish": True}
    return celery.connection_for_write(transport_options=options).Pool(limit=CONFIRMED_CONNECTIONS)


def _queue_of(name: str) -> str:
    return name.split(".")[1] if name.count(".") >= 2 else "task"


# Sync calls whose task events are sampled (workers/task_events.py): unsampled ones are published without task-sent.
_SAMPLED_EVENTS = frozenset({CLASSIFY_EVENT, CLASSIFY_COALESCED})


def _without_sent_events(celery: Celery) -> Celery:
    """The same app configuration without the task-sent event, for the unsampled share of frequent sync calls."""
    quiet = Celery(celery.main, set_as_current=False)
    quiet.conf.update({**celery.conf.changes, "task_send_sent_event": False})
    return quiet


class TaskGateway:
    def __init__(self, celery: Celery, *, key_prefix: str, in_process: bool = False,
                 breaker_cooldown_s: float = 2.0, ping_timeout_s: float = 1.0, redaction_secret: bytes | None = None,
                 read_result_ttl_s: int = 300, job_result_ttl_s: int = SUBMITTED_TTL_S):
        """``redaction_secret``: task arguments show event text as length + keyed hash (None: full arguments).
        ``read_result_ttl_s``: a short-lived result is deleted this long after the API read it."""
        self.celery = celery
        self.key_prefix = key_prefix
        self.redaction_secret = redaction_secret
        self.read_result_ttl_s = read_result_ttl_s
        self.job_result_ttl_s = job_result_ttl_s
        self.ping_timeout_s = ping_timeout_s
        self.breaker = QueueBreaker(breaker_cooldown_s, alive=self.queue_has_worker)
        self.in_process = in_process
        self._submitted_prefix = f"{key_prefix}:tasks:submitted:"
        self._local: dict[str, Any] = {}  # in-process mode only: results of tasks run here
        self._confirmed = None if in_process else _confirmed_pool(celery)
        settings = getattr(celery.conf, "geulpi_settings", None)
        self._events_share = float(getattr(settings, "inference_events_share", 1.0))
        self._quiet = None if in_process or self._events_share >= 1.0 else _without_sent_events(celery)
        self._expiries = SideWriter(self._redis)
        atexit.register(self._expiries.flush, 2.0)

    def run(self, name: str, args: list[Any], *, timeout: float, users: Iterable[str] = (),
            remember_on_timeout: bool = True) -> Any:
        """Publish and wait for the result; raises the task's own domain error, Unavailable or Timeout.

        ``users``: the user ids the arguments name, so erasing one of them finds this task's result.
        ``remember_on_timeout``: False when the caller marks the task itself (a coalesced task holds several
        callers' answers: each may read only its own part, ``remember_part``)."""
        if self.in_process:
            return self._run_here(name, args)
        queue = _queue_of(name)
        self.breaker.before_call(queue)
        task_id = str(uuid.uuid4())
        try:
            self._index_users(users, task_id)
            # An unanswered sync call expires with its timeout, so a worker coming back later skips it.
            app = self.celery
            if self._quiet is not None and name in _SAMPLED_EVENTS and not sampled(task_id, self._events_share):
                app = self._quiet
            result = app.send_task(name, args=args, task_id=task_id, expires=timeout, **self._publish_options(args))
            value = result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
            self._expire_later(task_id)
            return value
        except (CeleryTimeout, TaskRevokedError) as err:
            # TaskRevokedError: the call expired in the queue before a worker took it, the same "no answer".
            if remember_on_timeout:
                self._remember(task_id, name)
            self.breaker.timed_out(queue)
            raise Timeout(f"No {queue} worker answered within {timeout:g} s; the request was not processed "
                          "(retry, or use ?async=true and poll /tasks/<taskId>).",
                          details={"taskId": task_id, "timeoutSeconds": timeout}) from err
        except RemoteError as err:
            self._expire_later(task_id)
            raise error_from_dict(err.wire) from err
        except _INFRA_ERRORS as err:
            raise Unavailable(f"The task broker is unreachable ({type(err).__name__}); retry shortly.",
                              details={"dependency": "broker"}) from err
        except RuntimeError as err:
            # Celery's result consumer gives up reconnecting with a RuntimeError caused by a connection error;
            # it reconnects on the next call, so this is an outage, not a bug.
            if isinstance(err.__cause__, _INFRA_ERRORS):
                raise Unavailable("The result backend is unreachable; retry shortly.",
                                  details={"dependency": "result_backend"}) from err
            raise

    def queue_has_worker(self, queue: str) -> bool:
        """True as soon as one worker of ``queue`` answers a ping (workers are named ``<queue>@host``)."""
        replies = self.celery.control.ping(timeout=self.ping_timeout_s, pattern=f"{queue}@*", matcher="glob",
                                           limit=1)
        return bool(replies)

    def submit(self, name: str, args: list[Any], *, users: Iterable[str] = ()) -> str:
        """Publish without waiting; the id can be polled with ``status``. ``users`` as in ``run``."""
        if self.in_process:
            outcome = self._apply_here(name, args)
            self._local[outcome.id] = outcome
            return str(outcome.id)
        task_id = str(uuid.uuid4())
        try:
            self._remember(task_id, name)
            self._index_users(users, task_id)
            if self._confirmed is None:  # Redis: the LPUSH reply already means the broker has the job
                self.celery.send_task(name, args=args, task_id=task_id, **self._publish_options(args))
            else:
                with self._confirmed.acquire(block=True, timeout=PUBLISH_CONFIRM_TIMEOUT_S) as connection:
                    self.celery.send_task(name, args=args, task_id=task_id, connection=connection,
                                          **self._publish_options(args))
        except _SUBMIT_ERRORS as err:
            raise Unavailable(f"The task broker is unreachable ({type(err).__name__}); retry shortly.",
                              details={"dependency": "broker"}) from err
        return task_id

    def remember_part(self, own_id: str, task_id: str, index: int) -> None:
        """``/tasks/<own_id>`` answers with entry ``index`` of coalesced task ``task_id``'s results (best effort,
        as ``_remember``)."""
        try:
            self._redis().set(self._submitted_prefix + own_id, f"{PART}{task_id}:{index}", ex=SUBMITTED_TTL_S)
        except _INFRA_ERRORS:
            pass

    def status(self, task_id: str) -> dict[str, Any]:
        """State, progress and result (or error) of a task this API submitted. NotFound for unknown ids."""
        try:
            kind = self._local.get(task_id) if self.in_process else self._known(task_id)
            if not kind:
                raise NotFound(f"No task with id '{task_id}' was submitted here (or it expired).",
                               details={"taskId": task_id})
            if isinstance(kind, str) and kind.startswith(PART):
                return self._part_status(task_id, kind)
            result = self._local[task_id] if self.in_process else AsyncResult(task_id, app=self.celery)
            state = result.state
            info = result.info
            if kind == SHORT_LIVED and state in {"SUCCESS", "FAILURE"}:
                self._expire_read_result(task_id, marker=True)
        except _INFRA_ERRORS as err:
            raise Unavailable(f"The result backend is unreachable ({type(err).__name__}); retry shortly.",
                              details={"dependency": "result_backend"}) from err
        body: dict[str, Any] = {"taskId": task_id, "state": state, "ready": state in {"SUCCESS", "FAILURE",
                                                                                           "REVOKED"}}
        if state == "SUCCESS":
            body["result"] = info
        elif state == "FAILURE":
            body["error"] = (info.wire if isinstance(info, RemoteError)
                             else {"code": "task_failed", "message": f"{type(info).__name__}: {info}"})
        elif isinstance(info, dict):
            body["progress"] = info
        return body

    def _part_status(self, own_id: str, kind: str) -> dict[str, Any]:
        """One caller's part of a coalesced task: its own answer or error, never the other callers'."""
        group_id, _, index = kind[len(PART):].rpartition(":")
        result = AsyncResult(group_id, app=self.celery)
        state, info = result.state, result.info
        body: dict[str, Any] = {"taskId": own_id, "state": state, "ready": state in {"SUCCESS", "FAILURE", "REVOKED"}}
        if state == "SUCCESS":
            results = info.get("results") if isinstance(info, dict) else None
            mine = results[int(index)] if isinstance(results, list) and int(index) < len(results) else None
            if isinstance(mine, dict) and isinstance(mine.get("error"), dict):
                body.update(state="FAILURE", error=mine["error"])
            else:
                body["result"] = mine
        elif state == "FAILURE":
            body["error"] = (info.wire if isinstance(info, RemoteError)
                             else {"code": "task_failed", "message": f"{type(info).__name__}: {info}"})
        if body["ready"]:
            self._expire_read_result(group_id)
            self._redis().expire(self._submitted_prefix + own_id, self.read_result_ttl_s)
        return body

    def _publish_options(self, args: list[Any]) -> dict[str, Any]:
        # Flower and worker logs show the arguments as short JSON instead of a cut Python repr, with event text as
        # its length and a keyed hash unless full arguments were asked for (GEULPI_FLOWER_FULL_ARGS).
        return {"argsrepr": args_repr(args, secret=self.redaction_secret), "kwargsrepr": "{}",
                "confirm_timeout": PUBLISH_CONFIRM_TIMEOUT_S}

    def _remember(self, task_id: str, name: str) -> None:
        kind = SHORT_LIVED if _queue_of(name) == "inference" else POLLED
        try:
            self._redis().set(self._submitted_prefix + task_id, kind, ex=max(SUBMITTED_TTL_S, self.job_result_ttl_s))
        except _INFRA_ERRORS:  # best effort: only makes /tasks/<id> able to say 404 for ids it never saw
            pass

    def _known(self, task_id: str) -> str | None:
        raw = self._redis().get(self._submitted_prefix + task_id)
        return None if raw is None else (raw.decode() if isinstance(raw, bytes) else str(raw))

    def _index_users(self, users: Iterable[str], task_id: str) -> None:
        users = [u for u in users if u]
        if users:
            # Not best effort: a result the erasure could not find would outlive the user's erasure request.
            remember_user_tasks(self._redis(), self.key_prefix, users, task_id, ttl_s=self.job_result_ttl_s)

    def _expire_read_result(self, task_id: str, *, marker: bool = False) -> None:
        """The API has read this short-lived result: it (and its marker) go after ``read_result_ttl_s``."""
        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.expire(self.celery.backend.get_key_for_task(task_id), self.read_result_ttl_s)
            if marker:
                pipe.expire(self._submitted_prefix + task_id, self.read_result_ttl_s)
            pipe.execute()
        except _INFRA_ERRORS:  # the result still expires with result_expires (GEULPI_JOB_RESULT_TTL)
            pass

    def _expire_later(self, task_id: str) -> None:
        """``_expire_read_result`` for a sync call, which does not wait for it: a background thread sends the
        expiries of many calls in one pipeline (issue 13: it was a round trip per call). Best effort as before."""
        key, ttl = self.celery.backend.get_key_for_task(task_id), self.read_result_ttl_s
        self._expiries.submit("read result expiry", lambda pipe: pipe.expire(key, ttl))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the queued expiries were sent (tests; process exit)."""
        return self._expiries.flush(timeout)

    def _redis(self) -> Any:
        return self.celery.backend.client

    # --- DISABLE_REDIS: the task runs right here --------------------------------------------------------------
    def _apply_here(self, name: str, args: list[Any]) -> Any:
        self.celery.loader.import_default_modules()
        return self.celery.tasks[name].apply(args=args)

    def _run_here(self, name: str, args: list[Any]) -> Any:
        outcome = self._apply_here(name, args)
        if outcome.failed():
            exc = outcome.result
            if isinstance(exc, RemoteError):
                raise error_from_dict(exc.wire) from exc
            raise exc
        return outcome.result
