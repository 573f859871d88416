"""One trace and one JSON log line per HTTP request.

The Flask instrumentation opens the request's server span (continuing the caller's ``traceparent`` when one is
sent); publishing a task adds a span whose context travels to the worker (``workers/telemetry.py``). Every answer
carries ``traceparent``, ``X-Trace-Id`` and ``X-Request-Id`` headers, so a caller can quote the trace of any answer.
The log line names the route template, never the path (paths hold user ids) and never a body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor

from geulpi_tasks.observability.logs import add_log_context
from geulpi_tasks.observability.tracing import TraceExport, configure_tracing, current_ids, current_traceparent
from geulpi_tasks.settings import Settings
from workers.telemetry import instrument_celery

log = logging.getLogger("geulpi.api")

REQUEST_ID_HEADER = "X-Request-Id"
TRACE_ID_HEADER = "X-Trace-Id"
# A caller's request id is echoed and logged: short, and only characters that cannot forge a log field or header.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Answers whose body names the model that served them; the log line repeats the version.
_MODEL_ENDPOINTS = frozenset({"classify.classify_event", "classify.classify_events"})


def _request_context() -> dict[str, Any]:
    if not has_request_context():
        return {}
    return {"requestId": g.get("request_id")}


def register_telemetry(app: Flask, settings: Settings) -> None:
    provider = configure_tracing(TraceExport("geulpi-api", settings.otel_traces_exporter,
                                             settings.otel_exporter_otlp_endpoint))
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    instrument_celery(provider)
    add_log_context(_request_context)

    @app.before_request
    def _request_id() -> None:
        g.request_started = time.perf_counter()
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex

    @app.after_request
    def _trace_headers(response: Response) -> Response:
        trace_id, _ = current_ids()
        traceparent = current_traceparent()
        if trace_id is not None and traceparent is not None:
            response.headers["traceparent"] = traceparent
            response.headers[TRACE_ID_HEADER] = trace_id
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        _log_request(response)
        return response


def _log_request(response: Response) -> None:
    started = g.get("request_started")
    fields: dict[str, Any] = {
        "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
        "endpoint": request.endpoint, "status": response.status_code,
        "durationMs": round((time.perf_counter() - started) * 1000.0, 3) if started else None,
        "requestBytes": request.content_length}
    if request.endpoint in _MODEL_ENDPOINTS and response.status_code == 200 and response.is_json:
        body = g.get("geulpi_answer")  # the answer as the handler returned it (api/http.py)
        if body is None:
            body = response.get_json(silent=True)
        if isinstance(body, dict):
            fields["modelVersion"] = body.get("modelVersion")
            fields["batchSize"] = body.get("count")
    log.info("request finished", extra={k: v for k, v in fields.items() if v is not None})
