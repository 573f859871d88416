"""Monitoring with real parts: predictions through a real inference worker (2 prefork processes) counted by
Prometheus multiprocess metrics, drift scans run by a real monitoring worker, alert rules and the dashboard on the
real Redis."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import redis
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from geulpi_tasks.data.generator import generate_events
from geulpi_tasks.monitoring.accuracy import accuracy_by_version, record_feedback_outcome
from geulpi_tasks.monitoring.alerts import Alert
from geulpi_tasks.monitoring.monitor import Monitor
from geulpi_tasks.monitoring.prediction_log import (
    STATUS_ERROR,
    STATUS_SUCCESS,
    PredictionRecord,
    read_window,
    record_predictions,
)
from geulpi_tasks.schemas import CATEGORIES
from tests.conftest import WorkerProcess
from workers.task_names import SCAN_DRIFT

pytestmark = pytest.mark.usefixtures("inference_worker", "warm_worker")
PROMTOOL = shutil.which("promtool")
_EVENT_KEYS = ("title", "description", "location", "attendees", "startTime", "endTime")


@pytest.fixture(scope="module")
def redis_client(base_settings):
    client = redis.Redis.from_url(base_settings.redis_url)
    yield client
    client.close()


def _predictions_by_pid(metrics_dir) -> dict[str, float]:
    """Successful event_classifier predictions counted by each process other than this one (one file per pid)."""
    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.name.split("_")[-1].split(".")[0]
        if pid == str(os.getpid()):
            continue
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == "ml_predictions_total" and labels.get("model_name") == "event_classifier" and \
                    labels.get("status") == "success":
                counts[pid] = counts.get(pid, 0.0) + value
    return counts


@pytest.fixture(scope="module")
def warm_worker(inference_worker, api_app, base_settings):
    """The worker answers pings before its children have loaded the model: wait until both have classified."""
    client = api_app.test_client()
    event = {"title": "warm-up", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"}
    deadline = time.monotonic() + 180
    while len(_predictions_by_pid(base_settings.effective_metrics_dir)) < 2 and time.monotonic() < deadline:
        urls = [client.post("/v2/classify-event?async=true", json=event).headers["Location"] for _ in range(6)]
        for url in urls:
            _wait_for(lambda url=url: client.get(url).json["state"] == "SUCCESS", timeout=120)


@pytest.fixture(scope="module")
def monitoring_worker(base_settings, production_model, celery_client, tmp_path_factory):
    worker = WorkerProcess("workers.monitoring", base_settings, tmp_path_factory.mktemp("logs") / "monitoring.log")
    worker.wait_ready(celery_client)
    yield worker
    worker.stop()


def _wire(events):
    return [{k: e[k] for k in _EVENT_KEYS if k in e} for e in events]


def _samples(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _scrape(client) -> str:
    response = client.get("/monitoring/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_predictions_through_two_worker_processes_are_counted_exactly(client, base_settings, celery_client,
                                                                      tmp_path):
    # Inference workers run a threads pool (one process each): a second worker makes two processes share the work.
    second = WorkerProcess("workers.inference", base_settings, tmp_path / "inference-2.log")
    second.wait_ready(celery_client)
    try:
        _count_through_two_processes(client, base_settings)
    finally:
        second.stop()


def _count_through_two_processes(client, base_settings):  # type: ignore[no-untyped-def]
    n = 48

    def count():
        return _samples(_scrape(client), "ml_predictions_total", model_name="event_classifier", status="success")

    # Earlier predictions are counted just after their answers went out: start from a settled count.
    before = count()
    time.sleep(0.3)
    while count() != before:
        before = count()
        time.sleep(0.3)
    per_process_before = _predictions_by_pid(base_settings.effective_metrics_dir)
    sync = client.post("/v2/classify-event", json={"title": "standup", "startTime": "2024-01-22T09:00:00",
                                                   "endTime": "2024-01-22T09:15:00"})
    assert sync.status_code == 200
    # Accepted asynchronously so they queue up and both worker processes take a share.
    statuses = [client.post("/v2/classify-event?async=true", json=event).status_code
                for event in _wire(generate_events(n, seed=41))]
    assert statuses == [202] * n
    n += 1
    target = before + n
    # The counter is written by task_success after the answer went out: wait for it, then it must stay exact.
    _wait_for(lambda: _samples(_scrape(client), "ml_predictions_total", model_name="event_classifier",
                               status="success") >= target, timeout=60)
    time.sleep(0.3)
    text = _scrape(client)
    assert _samples(text, "ml_predictions_total", model_name="event_classifier", status="success") == target
    assert _samples(text, "ml_prediction_duration_seconds_count", model_name="event_classifier",
                    stage="model") >= n
    assert _samples(text, "ml_prediction_duration_seconds_count", stage="round_trip") >= 1
    assert _samples(text, "geulpi_task_runs_total", task_name="geulpi.inference.classify_event",
                    state="SUCCESS") >= n
    assert 'geulpi_queue_depth{queue="inference"}' in text
    assert "ml_prediction_duration_seconds_bucket" in text and 'le="0.0001"' in text
    labels = {name for family in text_string_to_metric_families(text) for s in family.samples for name in s.labels}
    assert labels <= {"model_name", "model_version", "status", "stage", "le", "task_name", "state", "queue",
                      "drift_type", "category"}  # no high-cardinality labels (no user ids, no event ids)
    # Counts came from more than one worker process: each writes its own multiprocess file.
    after = _predictions_by_pid(base_settings.effective_metrics_dir)
    writers = {pid for pid, value in after.items() if value > per_process_before.get(pid, 0.0)}
    assert sum(after.values()) - sum(per_process_before.values()) == n
    assert len(writers) >= 2, writers


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install -y prometheus)")
def test_exposition_passes_promtool(client):
    client.post("/v2/classify-event", json={"title": "standup", "startTime": "2024-01-22T09:00:00",
                                            "endTime": "2024-01-22T09:15:00"})
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=_scrape(client), capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _late_night_korean_long(count: int):
    korean = [e for e in generate_events(count * 5, seed=43) if e["lang"] == "ko"][:count]
    shifted = []
    for e in korean:
        start = datetime.fromisoformat(e["startTime"]).replace(hour=23, minute=30)
        shifted.append({**e, "startTime": start.isoformat(), "endTime": (start + timedelta(hours=6)).isoformat()})
    return _wire(shifted)


def _classify_batch_and_scan(client, celery_client, redis_client, base_settings, events):
    t0 = time.time()  # earlier predictions were logged before this: they stay out of the window
    response = client.post("/v2/classify-events", json={"events": events})
    assert response.status_code == 200, response.json
    _wait_for(lambda: len(read_window(redis_client, base_settings.key_prefix, "event_classifier", since=t0,
                                      until=time.time() + 5)) >= len(events), timeout=60)
    return celery_client.send_task(SCAN_DRIFT, kwargs={"since": t0}).get(timeout=120)


def test_drift_is_raised_by_shifted_events_and_not_by_the_reference_distribution(
        client, celery_client, redis_client, base_settings, monitoring_worker, production_model):
    calm = _classify_batch_and_scan(client, celery_client, redis_client, base_settings,
                                    _wire(generate_events(400, seed=42)))
    assert calm["status"] == "ok" and calm["n_current"] == 400 and calm["model_version"] == production_model
    assert calm["reference_source"] == "training"
    assert calm["drift_detected"] is False, calm["drifted_features"]
    assert calm["feature_score"] <= 0.15

    shifted = _classify_batch_and_scan(client, celery_client, redis_client, base_settings,
                                       _late_night_korean_long(400))
    assert shifted["status"] == "ok" and shifted["n_current"] == 400
    assert shifted["drift_detected"] is True
    assert {"hour", "log_duration_min", "lang"} <= set(shifted["drifted_features"])
    assert shifted["feature_score"] > 0.15

    text = _scrape(client)
    assert _samples(text, "ml_drift_score", model_name="event_classifier", drift_type="feature") == \
        pytest.approx(shifted["feature_score"])
    assert _samples(text, "ml_drift_score", model_name="event_classifier", drift_type="prediction") == \
        pytest.approx(shifted["scores"]["prediction"])
    dashboard = client.get("/monitoring/dashboard/event_classifier").json
    assert dashboard["drift_detected"] is True
    assert dashboard["drift"]["drifted_features"] == shifted["drifted_features"]


def test_scan_with_too_few_predictions_reports_insufficient_data(celery_client, monitoring_worker):
    report = celery_client.send_task(SCAN_DRIFT, kwargs={"model_name": "no-traffic-model", "window_s": 60}).get(
        timeout=30)
    assert report["status"] == "insufficient_data" and report["n_current"] == 0


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_alert_goes_pending_then_firing_then_resolved(client, redis_client, base_settings):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        model = "alert-model"
        monitor = Monitor(redis_client, base_settings.key_prefix, model,
                          webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
        monitor.add_alert(Alert(name="slow_alert_model", metric_name="avg_latency_ms", condition=">", threshold=30,
                                window_seconds=30, severity="critical", for_seconds=10,
                                message_template="{model_name} takes {value:.0f} ms"))
        t0 = time.time()

        def record(latency, at):
            record_predictions(redis_client, base_settings.key_prefix, model, [
                PredictionRecord("1", STATUS_SUCCESS, latency_ms=latency, ts=at) for _ in range(5)], max_len=1000)

        record(20.0, t0)
        monitor.evaluate(now=t0 + 1)
        assert monitor.active_alerts() == []
        record(60.0, t0 + 2)  # average (5*20 + 5*60)/10 = 40 ms > 30 (built-in 100 ms rule stays quiet)
        transitions = monitor.evaluate(now=t0 + 3)
        assert [(t["name"], t["state"]) for t in transitions] == [("slow_alert_model", "pending")]
        active = client.get(f"/monitoring/alerts?model={model}").json["alerts"]
        assert [(a["name"], a["state"], a["value"], a["severity"]) for a in active] == [
            ("slow_alert_model", "pending", 40.0, "critical")]
        assert monitor.evaluate(now=t0 + 8) == []  # still pending: held for 5 s of the 10 required
        transitions = monitor.evaluate(now=t0 + 13)
        assert [(t["name"], t["state"]) for t in transitions] == [("slow_alert_model", "firing")]
        active = client.get(f"/monitoring/alerts?model={model}").json["alerts"]
        assert active[0]["state"] == "firing" and active[0]["message"] == "alert-model takes 40 ms"
        record(10.0, t0 + 40)  # the slow ones leave the 30 s window
        transitions = monitor.evaluate(now=t0 + 41)
        assert [(t["name"], t["state"], t["value"]) for t in transitions] == [("slow_alert_model", "resolved", 10.0)]
        assert client.get(f"/monitoring/alerts?model={model}").json["alerts"] == []
        history = [h for h in client.get("/monitoring/alerts/history").json["history"] if h["model_name"] == model]
        assert [h["state"] for h in history][:3] == ["resolved", "firing", "pending"]
        assert [p["status"] for p in _Receiver.received] == ["firing", "resolved"]
        assert _Receiver.received[0]["alerts"][0]["labels"]["alertname"] == "slow_alert_model"
    finally:
        server.shutdown()
        monitor.delete_alert("slow_alert_model")


def test_default_success_rate_rule_fires_on_failures(redis_client, base_settings):
    model = "failing-model"
    monitor = Monitor(redis_client, base_settings.key_prefix, model)
    now = time.time()
    record_predictions(redis_client, base_settings.key_prefix, model,
                       [PredictionRecord("1", STATUS_SUCCESS, latency_ms=1.0, ts=now)] * 9
                       + [PredictionRecord("1", STATUS_ERROR, ts=now)], max_len=1000)
    monitor.evaluate(now=now + 1)
    monitor.evaluate(now=now + 122)
    firing = {a["name"]: a for a in monitor.active_alerts() if a["state"] == "firing"}
    assert set(firing) == {"low_success_rate"} and firing["low_success_rate"]["value"] == pytest.approx(0.9)
    assert firing["low_success_rate"]["message"] == "Success rate of failing-model is 90.00% (below 95%)"


def test_custom_rule_crud_and_validation(client, redis_client, base_settings):
    rule = {"name": "custom_accuracy_alert", "metric_name": "accuracy", "condition": "<", "threshold": 0.9,
            "window_seconds": 300, "severity": "critical", "message_template": "Model accuracy dropped to {value:.2%}"}
    created = client.post("/monitoring/alerts/rules", json=rule)
    assert created.status_code == 201 and created.json["name"] == rule["name"] and created.json["for_seconds"] == 0
    assert created.headers["Location"] == "/monitoring/alerts/rules/custom_accuracy_alert"
    assert client.post("/monitoring/alerts/rules", json=rule).status_code == 409
    names = [r["name"] for r in client.get("/monitoring/alerts/rules").json["rules"]]
    assert names[:3] == ["low_success_rate", "high_latency", "model_drift"] and "custom_accuracy_alert" in names
    assert client.get("/monitoring/alerts/rules/custom_accuracy_alert").json["threshold"] == 0.9
    # The Python API and the HTTP API share the store.
    Monitor(redis_client, base_settings.key_prefix, "event_classifier").add_alert(
        Alert("py_latency", "p95_latency_ms", ">", 250.0, window_seconds=60))
    assert "py_latency" in [r["name"] for r in client.get("/monitoring/alerts/rules").json["rules"]]
    assert client.delete("/monitoring/alerts/rules/custom_accuracy_alert").status_code == 204
    assert client.delete("/monitoring/alerts/rules/py_latency").status_code == 204
    missing = client.delete("/monitoring/alerts/rules/custom_accuracy_alert")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert client.get("/monitoring/alerts/rules/nope").status_code == 404
    builtin = client.delete("/monitoring/alerts/rules/high_latency")
    assert builtin.status_code == 409
    assert client.post("/monitoring/alerts/rules", json={**rule, "name": "high_latency"}).status_code == 409

    def error(body, **kw):
        response = client.post("/monitoring/alerts/rules", json=body, **kw)
        return response.status_code, response.json["error"]["details"].get("field")

    assert error({**rule, "threshold": "low"}) == (400, "threshold")
    assert error({k: v for k, v in rule.items() if k != "condition"}) == (400, "condition")
    assert error({**rule, "metric_name": "cpu"}) == (400, "metric_name")
    assert error({**rule, "window_seconds": 0}) == (422, "window_seconds")
    assert error({**rule, "message_template": "{oops"}) == (422, "message_template")
    assert error({**rule, "owner": "me"}) == (400, "owner")
    assert error([rule]) == (400, "body")
    bad_json = client.post("/monitoring/alerts/rules", data="{", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json["error"]["details"]["field"] == "body"
    assert client.get("/monitoring/alerts?model=").status_code == 400
    assert client.get("/monitoring/alerts/history?limit=0").status_code == 400


def test_dashboard_figures_equal_what_was_recorded(client, redis_client, base_settings):
    model = "dashboard-model"
    now = time.time()
    earlier = [PredictionRecord("4", STATUS_SUCCESS, latency_ms=10.0, ts=now - 3660)] * 9 + [
        PredictionRecord("4", STATUS_ERROR, ts=now - 3660)]
    latest = [PredictionRecord("4", STATUS_SUCCESS, latency_ms=30.0, ts=now - 5)] * 20
    record_predictions(redis_client, base_settings.key_prefix, model, earlier + latest, max_len=1000)
    before_feedback = client.get(f"/monitoring/dashboard/{model}").json
    assert before_feedback["statistics"]["recent_accuracy"] is None
    for correct in (True, True, True, False):
        record_feedback_outcome(redis_client, base_settings.key_prefix, model, "4", correct)
    body = client.get(f"/monitoring/dashboard/{model}").json
    assert body["model_name"] == model and body["current_version"] is None
    stats = body["statistics"]
    assert stats["total_predictions"] == 30
    assert stats["success_rate"] == pytest.approx(29 / 30)
    assert stats["avg_latency_ms"] == pytest.approx((9 * 10 + 20 * 30) / 29)
    assert stats["recent_accuracy"] == 0.75 and stats["feedback_count"] == 4
    hourly = body["performance_trend"]["hourly_data"]
    assert [(h["predictions"], h["success_rate"], h["avg_latency_ms"]) for h in hourly] == [
        (10, 0.9, 10.0), (20, 1.0, 30.0)]
    assert body["performance_trend"]["trend"] == "degrading"  # latency tripled
    assert body["health_status"] == "healthy" and body["active_alerts"] == []
    assert body["drift_detected"] is None  # never scanned
    missing = client.get("/monitoring/dashboard/never-served")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_dashboard_counts_real_predictions_and_feedback_accuracy(client, redis_client, base_settings,
                                                                 production_model):
    before = client.get("/monitoring/dashboard/event_classifier").json
    assert before["current_version"] == production_model
    # The serving version's global importance, as logged to MLflow when it was trained.
    importance = before["importance"]
    assert importance["method"] == "linear" and importance["rows"] > 0
    assert set(importance["per_class"]) == set(CATEGORIES)
    assert len(importance["per_class"]["HEALTH"]["terms_for"]) == 5
    scored_before = accuracy_by_version(redis_client, base_settings.key_prefix, "event_classifier", since=0).get(
        production_model, {"correct": 0, "total": 0})
    events = [{**e, "eventId": f"dash-{i}"} for i, e in enumerate(_wire(generate_events(12, seed=44)))]
    answers = [client.post("/v2/classify-event", json=e).json for e in events]
    _wait_for(lambda: client.get("/monitoring/dashboard/event_classifier").json["statistics"]["total_predictions"]
              >= before["statistics"]["total_predictions"] + 12)
    # Corrections through POST /feedback: every fourth says the model was wrong.
    for i in range(8):
        predicted = answers[i]["eventType"]
        category = predicted if i % 4 else ("OTHER" if predicted != "OTHER" else "WORK")
        _wait_for(lambda i=i, category=category: client.post(
            "/feedback", json={"eventId": f"dash-{i}", "category": category}).status_code == 201)
    after = client.get("/monitoring/dashboard/event_classifier").json
    assert after["statistics"]["total_predictions"] == before["statistics"]["total_predictions"] + 12
    assert after["statistics"]["feedback_count"] == before["statistics"]["feedback_count"] + 8
    scored = accuracy_by_version(redis_client, base_settings.key_prefix, "event_classifier", since=0)[production_model]
    assert (scored["correct"], scored["total"]) == (scored_before["correct"] + 6, scored_before["total"] + 8)
    text = _scrape(client)
    assert _samples(text, "ml_model_accuracy", model_name="event_classifier", model_version=production_model) == \
        pytest.approx(scored["correct"] / scored["total"])
