"""Inference results stay out of Flower, task events and worker logs: they are derived from users' events (tags,
categories, analyses with titles and the user id). ``GEULPI_FLOWER_FULL_ARGS=true`` shows them again (debugging).

The arguments are already redacted by the API (``argsrepr``: event text as length + keyed hash); here the worker
side does the same for results: a ``task-succeeded`` event of an inference task carries ``{"redacted": ...}``
instead of the result, and Celery's "Task ... succeeded in ...: <result>" log line is dropped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from celery.app.trace import LOG_SUCCESS
from celery.worker.request import Request

from workers.celery_app import app, settings_of

INFERENCE_PREFIX = "geulpi.inference."


def _full() -> bool:
    settings = app.conf.get("geulpi_settings")
    return bool(settings is not None and settings_of(app).flower_full_args)


class PrivateResultRequest(Request):
    """The request class of inference tasks: their success events show the result's size, not the result."""

    def send_event(self, type: str, **fields: Any) -> None:  # noqa: A002 - Celery's own parameter name
        if type == "task-succeeded" and "result" in fields and not _full():
            fields["result"] = json.dumps({"redacted": True, "chars": len(str(fields["result"]))})
        super().send_event(type, **fields)


class _DropInferenceResults(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg is not LOG_SUCCESS or _full():
            return True
        args = record.args if isinstance(record.args, dict) else {}
        return not str(args.get("name", "")).startswith(INFERENCE_PREFIX)


logging.getLogger("celery.app.trace").addFilter(_DropInferenceResults())
