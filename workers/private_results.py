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

from celery.app.trace import LOG_FAILURE, LOG_SUCCESS
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
        if type == "task-failed" and not _full():
            # A domain error's message may quote the caller's value (a bad date, a title): keep only its kind.
            fields["exception"] = _kind_only(fields.get("exception"))
            fields["traceback"] = ""
        super().send_event(type, **fields)


def _kind_only(exception: Any) -> str:
    """``"RemoteError('...')"`` → ``"RemoteError"``: the exception's class name without its message."""
    text = str(exception or "")
    return text.split("(", 1)[0].split(":", 1)[0].strip() or "error"


class _DropInferenceResults(logging.Filter):
    """Drops the success line of inference tasks (it prints the result) and strips the message from their failure
    lines (a domain error may quote the caller's value)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _full() or record.msg not in (LOG_SUCCESS, LOG_FAILURE):
            return True
        args = record.args if isinstance(record.args, dict) else {}
        if not str(args.get("name", "")).startswith(INFERENCE_PREFIX):
            return True
        if record.msg is LOG_SUCCESS:
            return False
        record.args = {**args, "exc": _kind_only(args.get("exc"))}
        record.exc_info = None
        return True


logging.getLogger("celery.app.trace").addFilter(_DropInferenceResults())
