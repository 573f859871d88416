"""Remembers what the inference workers classified, so ``POST /feedback`` can name an event by eventId/requestId.

Runs on Celery's ``task_success`` signal, after the result is stored, so the caller's answer is not delayed; the
write itself is queued to the process's side writer, so the next task is not delayed either.
A Redis hiccup here costs only the ability to correct that event by id (the event can still be sent in full).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from geulpi_tasks.feedback import remember_classified
from workers.celery_app import app, settings_of
from workers.side_writes import side_writer
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT, CLASSIFY_EVENTS

log = logging.getLogger(__name__)


def _classified_items(name: str, args: list[Any], result: dict[str, Any], task_id: str
                      ) -> list[tuple[dict[str, Any], dict[str, Any], str | None]]:
    if name == CLASSIFY_EVENT and args and isinstance(args[0], dict):
        return [(args[0], result, result.get("requestId") or task_id)]
    if name == CLASSIFY_COALESCED and args and isinstance(args[0], list):
        answers = result.get("results") or []
        return [(event, answer, answer["requestId"]) for event, answer in zip(args[0], answers)
                if isinstance(event, dict) and isinstance(answer, dict) and "requestId" in answer]
    if name == CLASSIFY_EVENTS and args and isinstance(args[0], list):
        answers = result.get("results") or []
        return [(event, answer, answer.get("requestId") or f"{task_id}:{i}")
                for i, (event, answer) in enumerate(zip(args[0], answers))
                if isinstance(event, dict) and isinstance(answer, dict)]
    return []


def _remember(sender: Any = None, result: Any = None, **_: Any) -> None:
    name = getattr(sender, "name", None)
    if name not in (CLASSIFY_EVENT, CLASSIFY_EVENTS, CLASSIFY_COALESCED) or not isinstance(result, dict):
        return
    items = _classified_items(name, list(sender.request.args or []), result, sender.request.id)
    if not items:
        return
    settings = settings_of(app)
    if settings.disable_redis:  # limited mode: there is no Redis to remember anything in
        return
    # Sent by this process's side writer, pipelined with other tasks' writes (workers/side_writes.py).
    task_id, model_name = str(sender.request.id), result.get("modelName")
    side_writer(settings.redis_url).submit("feedback cache", lambda client: remember_classified(
        client, settings.key_prefix, items, ttl_s=settings.feedback_cache_ttl_s, group_id=task_id,
        model_name=model_name))


signals.task_success.connect(_remember, weak=False)
