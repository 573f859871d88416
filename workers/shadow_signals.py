"""Hands each successful classification to the running shadow deployment, if any (geulpi_tasks/inference/shadow.py).

Runs on Celery's ``task_success`` signal, after the result was stored, so the caller's answer never waits for the
shadow; the handler itself costs a cached lookup and a queue append, and the shadow scores in a background thread.
A task that started before the shadow did is not handed over, even when its success signal runs after the start.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import signals

from workers import process_state
from workers.celery_app import app, settings_of
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT, CLASSIFY_EVENTS

log = logging.getLogger(__name__)

_CLASSIFY = (CLASSIFY_EVENT, CLASSIFY_EVENTS, CLASSIFY_COALESCED)
_SINGLE = (CLASSIFY_EVENT, CLASSIFY_COALESCED)  # single classifications (coalesced ones shared a message)
_received: dict[str, float] = {}  # task id → wall-clock time its task started (a shadow scores later tasks only)


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id and getattr(task, "name", None) in _CLASSIFY:
        _received[task_id] = time.time()


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    _received.pop(task_id or "", None)


def _pairs(name: str, args: list[Any], result: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    if name == CLASSIFY_EVENT and args and isinstance(args[0], dict):
        return [(args[0], result)]
    if name == CLASSIFY_COALESCED and args and isinstance(args[0], list):  # a failed caller's item is an error
        return [(event, answer) for event, answer in zip(args[0], result.get("results") or [])
                if isinstance(event, dict) and isinstance(answer, dict) and "error" not in answer]
    if name == CLASSIFY_EVENTS and args and isinstance(args[0], list):
        return [(event, answer) for event, answer in zip(args[0], result.get("results") or [])
                if isinstance(event, dict) and isinstance(answer, dict)]
    return []


def _shadow(sender: Any = None, result: Any = None, **_: Any) -> None:
    name = getattr(sender, "name", None)
    if name not in _CLASSIFY or not isinstance(result, dict):
        return
    if process_state.role != process_state.ProcessRole.INFERENCE:
        return  # limited mode runs tasks in the API process: no shared state, no shadow
    settings = settings_of(app)
    if settings.disable_redis:
        return
    pairs = _pairs(name, list(sender.request.args or []), result)
    if pairs:
        process_state.shadow_scorer(settings).submit(pairs, single=name in _SINGLE,
                                                     received_at=_received.get(sender.request.id))


def _flush(**_: Any) -> None:
    if not process_state.flush_shadow(10.0):
        log.warning("shadow scores still queued at shutdown")


signals.task_prerun.connect(_on_prerun, weak=False)
signals.task_success.connect(_shadow, weak=False)  # between prerun and postrun
signals.task_postrun.connect(_on_postrun, weak=False)
signals.worker_process_shutdown.connect(_flush, weak=False)
signals.worker_shutdown.connect(_flush, weak=False)
