"""OpenTelemetry set-up shared by the API and every worker: one tracer provider per process, export off by default.

Spans are always made (every answer carries its trace id, and logs name it), but they leave the process only when
``OTEL_TRACES_EXPORTER=otlp`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (OTLP over HTTP, e.g. to Jaeger's :4318).
The exporter reads the other standard ``OTEL_EXPORTER_OTLP_*`` and ``OTEL_BSP_*`` variables itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

# Header a publisher adds to a task message: when it was published (ns since the epoch), so the worker can show the
# time the message waited in the queue as a span of its own.
PUBLISHED_HEADER = "geulpi_published_ns"
TRACER_NAME = "geulpi"
EXPORTERS = ("", "none", "otlp")

_lock = threading.Lock()
_provider: TracerProvider | None = None
_added: set[object] = set()


@dataclass(frozen=True)
class TraceExport:
    """Where spans go: ``exporter`` is OTEL_TRACES_EXPORTER ("" = otlp when an endpoint is set, else none)."""

    service_name: str
    exporter: str = ""
    otlp_endpoint: str = ""

    @property
    def exports(self) -> bool:
        return self.exporter == "otlp" or (self.exporter == "" and bool(self.otlp_endpoint))


def configure_tracing(export: TraceExport, *, extra_exporter: SpanExporter | None = None) -> TracerProvider:
    """This process's tracer provider, made (and set as the global one) on the first call; later calls only add
    exporters not added yet. ``extra_exporter`` (tests: an in-memory exporter) gets every span as it ends."""
    global _provider
    with _lock:
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({"service.name": export.service_name}))
            trace.set_tracer_provider(_provider)
        if export.exports and "otlp" not in _added:
            _add(_provider, "otlp", BatchSpanProcessor(_otlp_exporter(export.otlp_endpoint)))
        if extra_exporter is not None and extra_exporter not in _added:
            _add(_provider, extra_exporter, SimpleSpanProcessor(extra_exporter))
        return _provider


def _add(provider: TracerProvider, key: object, processor: SpanProcessor) -> None:
    provider.add_span_processor(processor)
    _added.add(key)


def _otlp_exporter(endpoint: str) -> SpanExporter:
    # Only when export is switched on (OTEL_*): the exporter pulls in protobuf and an HTTP client.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if endpoint:  # the base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT means it: traces go to <endpoint>/v1/traces
        return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    return OTLPSpanExporter()


def flush_traces(timeout_ms: int = 5000) -> None:
    """Send what is buffered now (a process about to exit)."""
    if _provider is not None:
        _provider.force_flush(timeout_ms)


_tracer: tuple[Any, trace.Tracer] | None = None


def tracer() -> trace.Tracer:
    """This process's tracer (made once per tracer provider: making one per request cost ~4 % of a classification
    in the API)."""
    global _tracer
    provider = trace.get_tracer_provider()
    cached = _tracer
    if cached is None or cached[0] is not provider:
        cached = _tracer = (provider, trace.get_tracer(TRACER_NAME))
    return cached[1]


def current_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the current span as lowercase hex, or (None, None) outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span (what a caller sends to continue this trace)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
