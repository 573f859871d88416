"""JSON log lines for the API and every worker: one object per line, with the trace id and whatever context the
process adds (request id, task id, model version, duration).

Event text never goes into a log: lines carry counts and lengths instead.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any, Callable

from pythonjsonlogger.json import JsonFormatter

from geulpi_tasks.observability.tracing import current_ids

ContextProvider = Callable[[], dict[str, Any]]
_providers: list[ContextProvider] = []
_HANDLER_NAME = "geulpi-json"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def add_log_context(provider: ContextProvider) -> None:
    """Every later log line gets the fields ``provider()`` returns (None values are left out)."""
    if provider not in _providers:
        _providers.append(provider)


class ContextFilter(logging.Filter):
    """Adds ``service``, ``trace_id``/``span_id`` of the current span and the registered context to each record."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        trace_id, span_id = current_ids()
        if trace_id is not None and not hasattr(record, "trace_id"):
            record.trace_id, record.span_id = trace_id, span_id
        for provider in _providers:
            for key, value in provider().items():
                if value is not None and not hasattr(record, key):
                    setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(FORMAT, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def configure_logging(service: str, *, level: int | str = logging.INFO, stream: IO[str] | None = None) -> None:
    """Route the root logger to one JSON handler (replacing a previous one of ours; other handlers are removed so
    no line is written twice in two formats)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter(service))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)



class AccessJsonFormatter(logging.Formatter):
    """gunicorn's access lines as JSON: gunicorn passes its "atoms" as the record's args, and the answer's
    ``X-Request-Id``/``X-Trace-Id`` headers name the request and its trace."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._json = json_formatter()

    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args if isinstance(record.args, dict) else {}
        record.msg, record.args = "access", None
        micros = _int(atoms.get("D"))
        fields = {"remote": atoms.get("h"), "method": atoms.get("m"), "path": atoms.get("U"),
                  "status": _int(atoms.get("s")), "bytes": _int(atoms.get("B")),
                  "durationMs": round(micros / 1000.0, 3) if micros is not None else None,
                  "requestId": atoms.get("{x-request-id}o"), "trace_id": atoms.get("{x-trace-id}o"),
                  "userAgent": atoms.get("a")}
        for key, value in fields.items():
            if value not in (None, "-"):
                setattr(record, key, value)
        return self._json.format(record)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
