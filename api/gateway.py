"""How the API hands work to workers: publish by task name, wait with a timeout, or report a task's state.

Broker and backend faults become ``Unavailable`` (503); no answer in time becomes ``Timeout`` (504). With
DISABLE_REDIS the same calls run the task in this process (limited mode: no Beat, no shared state).
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import Celery
from celery.exceptions import TaskRevokedError
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from kombu.exceptions import LimitExceeded, OperationalError

from api.breaker import QueueBreaker
from celeryconfig import is_amqp
from geulpi_tasks.errors import NotFound, RemoteError, Timeout, Unavailable, error_from_dict
from workers.task_events import sampled
from workers.task_names import CLASSIFY_EVENT
from workers.task_repr import args_repr

_INFRA_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, OSError)
try:  # redis-py's errors do not all derive from ConnectionError
    import redis.exceptions as _redis_errors

    _INFRA_ERRORS += (_redis_errors.ConnectionError, _redis_errors.TimeoutError)
except ImportError:  # pragma: no cover - redis is a hard dependency
    pass

# No free confirm-mode connection in time is an outage as well.
_SUBMIT_ERRORS: tuple[type[BaseException], ...] = (*_INFRA_ERRORS, LimitExceeded)

SUBMITTED_TTL_S = 24 * 3600
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


# Sync calls whose task events are sampled (workers/task_events.py): unsampled ones are published without task-sent.
_SAMPLED_EVENTS = frozenset({CLASSIFY_EVENT})


def _without_sent_events(celery: Celery) -> Celery:
    """The same app configuration without the task-sent event, for the unsampled share of frequent sync calls."""
    quiet = Celery(celery.main, set_as_current=False)
    quiet.conf.update({**celery.conf.changes, "task_send_sent_event": False})
    return quiet


class TaskGateway:
    def __init__(self, celery: Celery, *, key_prefix: str, in_process: bool = False,
                 breaker_cooldown_s: float = 2.0, ping_timeout_s: float = 1.0):
        self.celery = celery
        self.ping_timeout_s = ping_timeout_s
        self.breaker = QueueBreaker(breaker_cooldown_s, alive=self.queue_has_worker)
        self.in_process = in_process
        self._submitted_prefix = f"{key_prefix}:tasks:submitted:"
        self._local: dict[str, Any] = {}  # in-process mode only: results of tasks run here
        self._confirmed = None if in_process else _confirmed_pool(celery)
        settings = getattr(celery.conf, "geulpi_settings", None)
        self._events_share = float(getattr(settings, "inference_events_share", 1.0))
        self._quiet = None if in_process or self._events_share >= 1.0 else _without_sent_events(celery)

    def run(self, name: str, args: list[Any], *, timeout: float) -> Any:
        """Publish and wait for the result; raises the task's own domain error, Unavailable or Timeout."""
        if self.in_process:
            return self._run_here(name, args)
        queue = name.split(".")[1] if name.count(".") >= 2 else "task"
        self.breaker.before_call(queue)
        task_id = str(uuid.uuid4())
        try:
            # An unanswered sync call expires with its timeout, so a worker coming back later skips it.
            app = self.celery
            if self._quiet is not None and name in _SAMPLED_EVENTS and not sampled(task_id, self._events_share):
                app = self._quiet
            result = app.send_task(name, args=args, task_id=task_id, expires=timeout, **self._publish_options(args))
            return result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
        except (CeleryTimeout, TaskRevokedError) as err:
            # TaskRevokedError: the call expired in the queue before a worker took it, the same "no answer".
            self._remember(task_id)
            self.breaker.timed_out(queue)
            raise Timeout(f"No {queue} worker answered within {timeout:g} s; the request was not processed "
                          "(retry, or use ?async=true and poll /tasks/<taskId>).",
                          details={"taskId": task_id, "timeoutSeconds": timeout}) from err
        except RemoteError as err:
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

    def submit(self, name: str, args: list[Any]) -> str:
        """Publish without waiting; the id can be polled with ``status``."""
        if self.in_process:
            outcome = self._apply_here(name, args)
            self._local[outcome.id] = outcome
            return str(outcome.id)
        task_id = str(uuid.uuid4())
        try:
            self._remember(task_id)
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

    def status(self, task_id: str) -> dict[str, Any]:
        """State, progress and result (or error) of a task this API submitted. NotFound for unknown ids."""
        try:
            if not (self._local.get(task_id) if self.in_process else self._known(task_id)):
                raise NotFound(f"No task with id '{task_id}' was submitted here (or it expired).",
                               details={"taskId": task_id})
            result = self._local[task_id] if self.in_process else AsyncResult(task_id, app=self.celery)
            state = result.state
            info = result.info
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

    @staticmethod
    def _publish_options(args: list[Any]) -> dict[str, Any]:
        # Flower and worker logs show the arguments as short JSON instead of a cut Python repr.
        return {"argsrepr": args_repr(args), "kwargsrepr": "{}", "confirm_timeout": PUBLISH_CONFIRM_TIMEOUT_S}

    def _remember(self, task_id: str) -> None:
        try:
            self._redis().set(self._submitted_prefix + task_id, "1", ex=SUBMITTED_TTL_S)
        except _INFRA_ERRORS:  # best effort: only makes /tasks/<id> able to say 404 for ids it never saw
            pass

    def _known(self, task_id: str) -> bool:
        return bool(self._redis().exists(self._submitted_prefix + task_id))

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
