"""One classification is one connected trace: API (Flask) → publish → queue wait → worker task → result.

The API runs in this process with an in-memory exporter; the inference worker is a real subprocess that exports
over OTLP/HTTP to a collector stand-in started here (a real HTTP server decoding the OTLP protobuf). A second test
runs the API under gunicorn exporting to the same collector, and reads both processes' JSON log lines.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from geulpi_tasks.observability.tracing import TraceExport, configure_tracing
from geulpi_tasks.settings import PROJECT_ROOT
from geulpi_tasks.tools.redis_server import free_port
from tests.conftest import WorkerProcess, child_env
from workers.launcher import process_table

EVENT = {"title": "Quarterly planning with the Seoul team", "description": "Budget review",
         "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T10:00:00"}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_PARENT = "00f067aa0ba902b7"


class Collector:
    """An OTLP/HTTP trace receiver: every span it was sent, as plain dicts."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.add(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: (a.value.string_value or a.value.int_value) for a in span.attributes}
                    with self.lock:
                        self.spans.append({"name": span.name, "trace_id": span.trace_id.hex(),
                                           "span_id": span.span_id.hex(),
                                           "parent_id": span.parent_span_id.hex() or None,
                                           "service": resource.get("service.name"), "attributes": attributes,
                                           "start": span.start_time_unix_nano, "end": span.end_time_unix_nano})

    def wait_for(self, trace_id: str, names: set[str], timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.spans if s["trace_id"] == trace_id]
            if names <= {s["name"] for s in found}:
                return found
            time.sleep(0.1)
        raise AssertionError(f"spans {names} of {trace_id} not received; got {[s['name'] for s in found]}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.close()


@pytest.fixture(scope="module")
def traced_settings(base_settings, collector):  # type: ignore[no-untyped-def]
    # A Redis database of its own: no other test's worker can take these tasks.
    return dataclasses.replace(base_settings, redis_url=base_settings.redis_url.rsplit("/", 1)[0] + "/5",
                               otel_traces_exporter="otlp", otel_exporter_otlp_endpoint=collector.url)


@pytest.fixture(scope="module")
def traced_worker(traced_settings, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    from workers.celery_app import create_celery

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # export within 0.1 s of a span's end, not 5 s
        worker = WorkerProcess("workers.inference", traced_settings,
                               tmp_path_factory.mktemp("traced") / "inference.log", "--concurrency", "1")
    worker.wait_ready(create_celery(traced_settings))
    yield worker
    worker.stop()


def _by_name(spans: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    matches = [s for s in spans if s["name"].startswith(prefix)]
    assert len(matches) == 1, (prefix, [s["name"] for s in spans])
    return matches[0]


def _assert_connected(spans: list[dict[str, Any]], root_parent: str | None) -> None:
    ids = {s["span_id"] for s in spans}
    dangling = [s["name"] for s in spans if s["parent_id"] not in ids and s["parent_id"] != root_parent]
    assert dangling == [], dangling


def test_one_classification_is_one_connected_trace_across_api_and_worker(traced_settings, traced_worker,
                                                                         collector):
    from api import create_app
    from workers.celery_app import create_celery

    memory = InMemorySpanExporter()
    configure_tracing(TraceExport("geulpi-api"), extra_exporter=memory)
    app = create_app(dataclasses.replace(traced_settings, otel_traces_exporter="none"),
                     celery=create_celery(traced_settings))
    response = app.test_client().post("/v2/classify-event", json=EVENT, headers={
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_PARENT}-01"})
    assert response.status_code == 200, response.json
    assert response.headers["X-Trace-Id"] == CALLER_TRACE
    assert response.headers["traceparent"].startswith(f"00-{CALLER_TRACE}-")
    assert response.headers["X-Request-Id"]

    api_spans = [{"name": s.name, "trace_id": f"{s.context.trace_id:032x}", "span_id": f"{s.context.span_id:016x}",
                  "parent_id": f"{s.parent.span_id:016x}" if s.parent else None, "service": "geulpi-api",
                  "attributes": dict(s.attributes or {})}
                 for s in memory.get_finished_spans() if f"{s.context.trace_id:032x}" == CALLER_TRACE]
    worker_spans = collector.wait_for(CALLER_TRACE, {"queue wait geulpi.inference.classify_event",
                                                     "run/geulpi.inference.classify_event"})
    spans = api_spans + worker_spans
    server = _by_name(spans, "POST /v2/classify-event")
    awaited = _by_name(spans, "await geulpi.inference.classify_event")
    publish = _by_name(spans, "publish geulpi.inference.classify_event")
    queued = _by_name(spans, "queue wait geulpi.inference.classify_event")
    run = _by_name(spans, "run/geulpi.inference.classify_event")
    assert server["parent_id"] == CALLER_PARENT  # the caller's traceparent was honoured
    assert awaited["parent_id"] == server["span_id"] and publish["parent_id"] == awaited["span_id"]
    assert queued["parent_id"] == publish["span_id"] and run["parent_id"] == publish["span_id"]
    assert {queued["service"], run["service"]} == {"geulpi-inference"}
    assert queued["start"] <= run["start"] and queued["end"] <= run["end"]
    assert run["attributes"]["geulpi.model.version"] == response.json["modelVersion"]
    assert run["attributes"]["geulpi.batch.size"] == 1
    assert run["attributes"]["messaging.message.id"] == response.json["requestId"]
    _assert_connected(spans, CALLER_PARENT)
    # No span carries event text.
    assert not [s for s in spans if any(EVENT["title"] in str(v) for v in s["attributes"].values())]


@pytest.fixture(scope="module")
def gunicorn_api(traced_settings, traced_worker, tmp_path_factory):  # type: ignore[no-untyped-def]
    port = free_port()
    logs = tmp_path_factory.mktemp("gunicorn")
    env = {**child_env(traced_settings), "OTEL_BSP_SCHEDULE_DELAY": "100"}
    out, err = open(logs / "access.log", "wb"), open(logs / "error.log", "wb")
    # The launcher's own API command (scripts/start), on a free port, without gunicorn's control socket.
    command = shlex.split(process_table(dataclasses.replace(traced_settings, api_port=port), sys.executable)["api"])
    proc = subprocess.Popen([*command[:-1], "--no-control-socket", command[-1]], cwd=PROJECT_ROOT, env=env,
                            stdout=out, stderr=err, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                requests.get(f"{url}/openapi.json", timeout=1)
                break
            except requests.RequestException:
                assert proc.poll() is None and time.monotonic() < deadline, (logs / "error.log").read_text()[-3000:]
                time.sleep(0.2)
        yield url, logs
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        out.close()
        err.close()


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_gunicorn_and_worker_write_json_lines_naming_request_trace_task_and_model(gunicorn_api, traced_worker,
                                                                                  collector):
    url, logs = gunicorn_api
    response = requests.post(f"{url}/v2/classify-event", json=EVENT, headers={"X-Request-Id": "req-ops-1"},
                             timeout=30)
    assert response.status_code == 200, response.text
    trace_id, task_id = response.headers["X-Trace-Id"], response.json()["requestId"]
    # The whole trace reached the collector from both processes.
    spans = collector.wait_for(trace_id, {"POST /v2/classify-event", "run/geulpi.inference.classify_event"})
    assert {s["service"] for s in spans} == {"geulpi-api", "geulpi-inference"}
    _assert_connected(spans, None)

    def lines_where(path: str, **wanted: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 30
        while True:
            text = (logs / path).read_text() if "/" not in path else Path(path).read_text()
            found = [line for line in _json_lines(text) if all(line.get(k) == v for k, v in wanted.items())]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    access = lines_where("access.log", requestId="req-ops-1")
    assert access and access[0]["status"] == 200 and access[0]["path"] == "/v2/classify-event"
    assert access[0]["trace_id"] == trace_id and access[0]["durationMs"] >= 0
    app_line = lines_where("error.log", message="request finished", requestId="req-ops-1")
    assert app_line and app_line[0]["trace_id"] == trace_id and app_line[0]["status"] == 200
    assert app_line[0]["modelVersion"] == response.json()["modelVersion"] and app_line[0]["durationMs"] > 0
    assert app_line[0]["route"] == "/v2/classify-event" and app_line[0]["service"] == "geulpi-api"
    task_line = lines_where(str(traced_worker.log_path), message="task finished", taskId=task_id)
    assert task_line and task_line[0]["trace_id"] == trace_id and task_line[0]["state"] == "SUCCESS"
    assert task_line[0]["modelVersion"] == response.json()["modelVersion"] and task_line[0]["durationMs"] > 0
    assert task_line[0]["service"] == "geulpi-inference" and task_line[0]["batchSize"] == 1
    # Every line the API process wrote is JSON (the worker's start-up banner is Celery's own print); no line of
    # either process holds event text.
    for text in ((logs / "access.log").read_text(), (logs / "error.log").read_text()):
        assert all(line.startswith("{") for line in text.splitlines() if line.strip()), text[-2000:]
    for text in ((logs / "access.log").read_text(), (logs / "error.log").read_text(),
                 traced_worker.log_path.read_text()):
        assert EVENT["title"] not in text and EVENT["description"] not in text
