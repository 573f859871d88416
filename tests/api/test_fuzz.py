"""Schemathesis fuzzes the API from its own OpenAPI document, over real HTTP, with the real inference worker.

A small run (examples + fuzzing phases, a few cases per operation); ``python -m bench.fuzz_api`` is the big one.
Schemathesis runs in a subprocess (its CLI), so hypothesis never loads into this pytest process.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Iterator

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from api import create_app
from api.auth import Access, access_for
from bench.fuzz_api import TRAIN_OPERATION, run_schemathesis

API_KEY = "fuzz-test-key"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:  # hundreds of fuzzed lines say nothing
        pass


@pytest.fixture(scope="module")
def keyed_app(base_settings, celery_client):  # type: ignore[no-untyped-def]
    """The API app with an API key configured, so mutating endpoints are reachable."""
    return create_app(dataclasses.replace(base_settings, api_keys=API_KEY), celery=celery_client)


@pytest.fixture(scope="module")
def served_api(keyed_app, inference_worker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``keyed_app`` behind a real (threaded) HTTP server on a free port, with the real inference worker."""
    server = make_server("127.0.0.1", 0, keyed_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.slow
def test_fuzzed_requests_get_documented_answers_and_no_server_error(served_api, tmp_path):
    # Training is left out: a valid body is a real training job (the bench fuzzes it with invalid bodies only).
    report = run_schemathesis(served_api, max_examples=10, seed=7, api_key=API_KEY, workers=1, report_dir=tmp_path,
                              exclude_operation=TRAIN_OPERATION, phases="examples,fuzzing")
    assert report.cases > 150, report.output[-3000:]
    assert not report.failures, "\n".join(report.failures) + "\n" + report.output[-8000:]
    assert report.exit_code == 0, report.output[-8000:]
    assert not [status for status in report.by_status if status >= 500], report.by_status
    assert report.by_status.get(200, 0) > 20, report.by_status  # valid requests got through to the worker


def test_training_refuses_every_schema_invalid_body(served_api, tmp_path):
    report = run_schemathesis(served_api, max_examples=15, seed=7, api_key=API_KEY, workers=1, report_dir=tmp_path,
                              mode="negative", include_operation=TRAIN_OPERATION, phases="fuzzing")
    assert report.cases > 10, report.output[-3000:]
    assert not report.failures, "\n".join(report.failures) + "\n" + report.output[-8000:]
    assert report.exit_code == 0, report.output[-8000:]


def test_calls_without_a_key_get_documented_answers_and_never_start_a_job(served_api, tmp_path):
    report = run_schemathesis(served_api, max_examples=2, seed=7, api_key=None, workers=1, report_dir=tmp_path,
                              mode="positive", phases="examples,fuzzing")
    assert not report.failures, "\n".join(report.failures) + "\n" + report.output[-8000:]
    assert report.exit_code == 0, report.output[-8000:]
    assert report.by_status.get(401, 0) >= 10, report.by_status
    assert 202 not in report.by_operation.get("POST /models/train", {}), report.by_operation


def test_openapi_security_matches_the_api_key_policy(api_app, client):
    paths = client.get("/openapi.json").json["paths"]
    checked = 0
    for rule in api_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = paths[path][method.lower()]
            access = access_for(rule.endpoint, method)
            expected = {Access.OPEN: None, Access.MUTATE: [{"apiKey": []}], Access.PRIVATE: [{"apiKey": []}]}.get(
                access, [{}, {"apiKey": []}])
            assert operation.get("security") == expected, (method, path, access)
            assert ("401" in operation["responses"]) == (access is not Access.OPEN), (method, path)
            checked += 1
    assert checked >= 25


# Bodies the fuzzer found that once answered 500 or were wrongly accepted.
@pytest.mark.parametrize("rule, field", [
    ({"severity": {}}, "severity"), ({"metric_name": []}, "metric_name"), ({"condition": {"<": 1}}, "condition"),
    ({"message_template": "{value[0]}"}, "message_template"),
])
def test_alert_rule_with_a_mistyped_field_is_refused_naming_it(keyed_app, rule, field):
    body = {"name": "fuzzed", "metric_name": "accuracy", "condition": "<", "threshold": 0.5, **rule}
    response = keyed_app.test_client().post("/monitoring/alerts/rules", json=body,
                                            headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code in (400, 422), response.json
    assert response.json["error"]["details"]["field"] == field


@pytest.mark.parametrize("attendee", [{"name": "Kim", "email": {}}, {"email": 5}, {"name": ""}, {}])
def test_attendee_object_needs_a_string_email_or_name(keyed_app, attendee):
    event = {"title": "Sync", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00",
             "attendees": ["a@example.com", attendee]}
    response = keyed_app.test_client().post("/v2/classify-event", json=event)
    assert response.status_code == 400, response.json
    assert response.json["error"]["details"]["field"] == "attendees[1]"


def test_empty_async_flag_is_refused_naming_it(client):
    event = {"title": "Sync", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}
    response = client.post("/v2/classify-event?async=", json=event)
    assert response.status_code == 400, response.json
    assert response.json["error"]["details"]["field"] == "async"


def test_version_numbers_beyond_the_registry_range_are_a_400_not_a_503(keyed_app):
    huge = "8670212538807965186673995"
    client, auth = keyed_app.test_client(), {"Authorization": f"Bearer {API_KEY}"}
    compared = client.post(f"/models/compare?model_name=event_classifier&version_a={huge}&version_b=1", headers=auth)
    assert compared.status_code == 400, compared.json
    assert compared.json["error"]["details"]["field"] == "version"
    created = client.post("/experiments/create", headers=auth, json={
        "name": "huge", "model_type": "event_classifier", "duration_hours": 1,
        "variants": [{"name": "a", "version": "1", "traffic_percentage": 50},
                     {"name": "b", "version": huge, "traffic_percentage": 50}]})
    assert created.status_code == 400, created.json
    assert created.json["error"]["details"]["field"] == "variants[1].version"
