"""API keys on the real app (real Redis, registry and inference worker): mutating endpoints need a Bearer key;
reads and classification are open or closed by configuration; /health, metrics and the docs stay open. Also the
request size and batch limits, and that a training request cannot name a model file."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from api import create_app
from api.auth import Access, access_for
from geulpi_tasks.tools.redis_server import free_port
from tests.conftest import TEST_API_KEY, child_env
from workers.launcher import process_env, process_table, security_env

EVENT = {"title": "Sprint planning", "startTime": "2024-01-22T10:00:00", "endTime": "2024-01-22T11:00:00"}
RULE = {"name": "sec_rule", "metric_name": "accuracy", "condition": "<", "threshold": 0.5}

# Every route that changes state and therefore always needs a key (the decision, written down once).
MUTATING = {
    ("POST", "/models/train"), ("POST", "/models/<name>/promote"), ("POST", "/models/<name>/rollback"),
    ("POST", "/models/compare"), ("POST", "/experiments/create"), ("POST", "/experiments/<experiment_id>/stop"),
    ("POST", "/monitoring/alerts/rules"), ("DELETE", "/monitoring/alerts/rules/<name>"),
    ("DELETE", "/users/<user_id>/data"), ("POST", "/models/<name>/shadow"), ("DELETE", "/models/<name>/shadow"),
    ("POST", "/models/<name>/shadow/promote"), ("POST", "/models/<name>/approvals/<approval_id>/approve"),
    ("POST", "/models/<name>/approvals/<approval_id>/reject"),
}
# Reads that always need a key, whatever GEULPI_AUTH_READS says.
PRIVATE = {("GET", "/audit")}
CLASSIFY = {("POST", "/v2/classify-event"), ("POST", "/classify-event"), ("POST", "/v2/classify-events"),
            ("POST", "/analyze-balance"), ("POST", "/optimize-schedule"), ("POST", "/detect-patterns"),
            ("POST", "/analyze-burnout"), ("POST", "/feedback")}
ALWAYS_OPEN = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/monitoring/metrics"), ("GET", "/docs")}
SAMPLE_PATHS = {"<name>": "event_classifier", "<experiment_id>": "nope", "<model_name>": "event_classifier",
                "<task_id>": "nope", "<user_id>": "nobody", "<approval_id>": "0123456789abcdef"}


def _concrete(path: str) -> str:
    return re.sub(r"<[^>]+>", lambda m: SAMPLE_PATHS[m.group(0)], path)


def _app(base_settings, celery_client, **changes):  # type: ignore[no-untyped-def]
    return create_app(base_settings.replace(**changes), celery=celery_client)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _unauthorized(response, code: str) -> dict:  # type: ignore[type-arg]
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="geulpi"')
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code and error["details"]["field"] == "Authorization"
    return error  # type: ignore[no-any-return]


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}


def test_every_route_has_the_expected_access_class(api_app):
    classes = {route: access_for(_endpoint(api_app, *route), route[0]) for route in _routes(api_app)}
    assert {r for r, c in classes.items() if c is Access.MUTATE} == MUTATING
    assert {r for r, c in classes.items() if c is Access.CLASSIFY} == CLASSIFY
    assert {r for r, c in classes.items() if c is Access.OPEN} == ALWAYS_OPEN
    assert {r for r, c in classes.items() if c is Access.PRIVATE} == PRIVATE
    assert all(method == "GET" for (method, _), c in classes.items() if c is Access.READ)


def _endpoint(app, method: str, rule: str) -> str:  # type: ignore[no-untyped-def]
    return next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule and method in (r.methods or ()))


@pytest.mark.parametrize(("method", "path"), sorted(MUTATING))
def test_mutating_endpoint_without_a_key_is_401(api_app, method, path):
    client = api_app.test_client()
    error = _unauthorized(client.open(_concrete(path), method=method, json={}), "missing_api_key")
    assert "Authorization: Bearer" in error["message"]
    # Not a Bearer credential at all.
    _unauthorized(client.open(_concrete(path), method=method, json={},
                              headers={"Authorization": f"Basic {TEST_API_KEY}"}), "missing_api_key")


@pytest.mark.parametrize(("method", "path"), sorted(MUTATING))
def test_mutating_endpoint_with_a_wrong_key_is_401_invalid_token(api_app, method, path):
    response = api_app.test_client().open(_concrete(path), method=method, json={},
                                          headers=_bearer(TEST_API_KEY + "x"))
    _unauthorized(response, "invalid_api_key")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_key_opens_mutating_endpoints(api_app):
    client = api_app.test_client()
    name = f"sec_rule_{uuid.uuid4().hex[:6]}"
    created = client.post("/monitoring/alerts/rules", json={**RULE, "name": name}, headers=_bearer(TEST_API_KEY))
    assert created.status_code == 201, created.json
    assert client.delete(f"/monitoring/alerts/rules/{name}", headers=_bearer(TEST_API_KEY)).status_code == 204
    # Past the key check, the handler's own validation answers.
    bad = client.post("/models/train", json={"model_type": "spam"}, headers=_bearer(TEST_API_KEY))
    assert bad.status_code == 400 and bad.json["error"]["details"]["field"] == "model_type"
    # Surrounding spaces and the scheme's case do not matter.
    again = client.delete(f"/monitoring/alerts/rules/{name}", headers={"Authorization": f"bearer  {TEST_API_KEY} "})
    assert again.status_code == 404


def test_any_of_several_configured_keys_is_accepted(base_settings, celery_client):
    client = _app(base_settings, celery_client, api_keys=f" first-key , {TEST_API_KEY},").test_client()
    for key in ("first-key", TEST_API_KEY):
        response = client.post("/models/train", json={"model_type": "spam"}, headers=_bearer(key))
        assert response.status_code == 400, key
    _unauthorized(client.post("/models/train", json={}, headers=_bearer("")), "missing_api_key")


def test_without_any_configured_key_mutations_are_refused_and_the_rest_stays_open(base_settings, celery_client,
                                                                                  inference_worker):
    client = _app(base_settings, celery_client, api_keys="").test_client()
    error = _unauthorized(client.post("/models/train", json={"model_type": "event_classifier"},
                                      headers=_bearer("anything")), "api_key_not_configured")
    assert "GEULPI_API_KEYS" in error["message"]
    assert client.post("/v2/classify-event", json=EVENT).status_code == 200
    assert client.get("/monitoring/alerts/rules").status_code == 200


def test_reads_are_open_by_default(api_app):
    client = api_app.test_client()
    assert client.get("/monitoring/alerts/rules").status_code == 200
    assert client.get("/models/event_classifier/versions").status_code == 200


def test_reads_can_be_closed_by_configuration(base_settings, celery_client, inference_worker):
    client = _app(base_settings, celery_client, auth_reads="key").test_client()
    for path in ("/monitoring/alerts/rules", "/models/event_classifier/versions", "/experiments",
                 "/tasks/nope", "/monitoring/dashboard/event_classifier"):
        _unauthorized(client.get(path), "missing_api_key")
    assert client.get("/monitoring/alerts/rules", headers=_bearer(TEST_API_KEY)).status_code == 200
    # Health, metrics and the docs stay open; classification stays open unless closed separately.
    assert client.get("/health").status_code == 200
    assert client.get("/monitoring/metrics").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.post("/v2/classify-event", json=EVENT).status_code == 200


def test_classification_is_open_by_default(api_app, inference_worker):
    response = api_app.test_client().post("/v2/classify-event", json=EVENT)
    assert response.status_code == 200 and response.json["eventType"]


def test_classification_and_analyses_can_be_closed_by_configuration(base_settings, celery_client,
                                                                    inference_worker):
    client = _app(base_settings, celery_client, auth_classify="key").test_client()
    _unauthorized(client.post("/v2/classify-event", json=EVENT), "missing_api_key")
    _unauthorized(client.post("/v2/classify-events", json={"events": [EVENT]}), "missing_api_key")
    _unauthorized(client.post("/analyze-burnout", json={"userId": "u", "events": [EVENT]}), "missing_api_key")
    _unauthorized(client.post("/feedback", json={"eventId": "e1", "category": "WORK"}), "missing_api_key")
    _unauthorized(client.post("/v2/classify-event", json=EVENT, headers=_bearer("wrong")), "invalid_api_key")
    ok = client.post("/v2/classify-event", json=EVENT, headers=_bearer(TEST_API_KEY))
    assert ok.status_code == 200 and ok.json["eventType"]
    accepted = client.post("/v2/classify-events?async=true", json={"events": [EVENT]}, headers=_bearer(TEST_API_KEY))
    assert accepted.status_code == 202 and accepted.headers["Location"].startswith("/tasks/")
    # Reads stay open unless GEULPI_AUTH_READS=key.
    assert client.get(accepted.headers["Location"]).status_code == 200


def test_a_bad_auth_mode_is_a_configuration_error(base_settings, celery_client):
    with pytest.raises(ValueError, match="GEULPI_AUTH_READS"):
        _app(base_settings, celery_client, auth_reads="closed")
    with pytest.raises(ValueError, match="GEULPI_AUTH_CLASSIFY"):
        _app(base_settings, celery_client, auth_classify="yes")


def test_openapi_documents_the_bearer_scheme_where_the_server_asks_for_it(api_app, client):
    document = client.get("/openapi.json").json
    schemes = document["components"]["securitySchemes"]
    [(scheme_name, scheme)] = schemes.items()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        rule = re.sub(r"\{(\w+)\}", r"<\1>", path)
        for method, operation in operations.items():
            access = access_for(_endpoint(api_app, method.upper(), rule), method.upper())
            security = operation.get("security", [])
            if access is Access.OPEN:
                assert not security or {} in security, (method, path)
                continue
            assert {scheme_name: []} in security, (method, path)
            assert ({} not in security) == (access in (Access.MUTATE, Access.PRIVATE)), (method, path)
            assert "401" in operation["responses"], (method, path)


def test_oversized_body_is_413_json_on_mutating_and_classify_endpoints(base_settings, celery_client):
    client = _app(base_settings, celery_client, max_request_bytes=2048).test_client()
    big = b'{"model_type": "event_classifier", "description": "' + b"x" * 4096 + b'"}'
    # The key is checked before the body is read: no key, no 413 (and no reading of the body).
    _unauthorized(client.post("/models/train", data=big, content_type="application/json"), "missing_api_key")
    for path in ("/models/train", "/v2/classify-events", "/experiments/create"):
        response = client.post(path, data=big, content_type="application/json", headers=_bearer(TEST_API_KEY))
        assert response.status_code == 413, path
        assert response.json["error"]["code"] == "request_entity_too_large"


def test_batch_over_the_configured_limit_is_400_naming_events(base_settings, celery_client):
    client = _app(base_settings, celery_client, max_batch_size=3).test_client()
    error = client.post("/v2/classify-events", json={"events": [EVENT] * 4}).json["error"]
    assert error["details"]["field"] == "events" and "3" in error["message"]


@pytest.mark.parametrize("field", ["model_path", "artifact_uri", "model_uri", "pretrained_model"])
def test_training_request_naming_a_model_location_is_400(client, field):
    response = client.post("/models/train", json={"model_type": "event_classifier",
                                                  field: "/tmp/evil.pkl" if "path" in field else "s3://x/model"})
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "unknown_field" and error["details"]["field"] == field
    assert "registry" in error["message"]


def test_flower_started_like_the_launcher_requires_its_generated_basic_auth(base_settings, tmp_path):
    settings = base_settings.replace(data_dir=tmp_path, flower_port=free_port())
    secrets, _ = security_env(settings.replace(flower_basic_auth=""))
    user, _, password = secrets["FLOWER_BASIC_AUTH"].partition(":")
    env = process_env("flower", child_env(settings) | secrets)
    command = shlex.split(process_table(settings, sys.executable)["flower"])
    log = open(tmp_path / "flower.log", "wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{settings.flower_port}/api/tasks"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "flower.log").read_text()[-2000:]
            try:
                anonymous = requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert anonymous.status_code == 401
        assert requests.get(url, auth=(user, password + "x"), timeout=5).status_code == 401
        assert requests.get(url, auth=(user, password), timeout=10).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
