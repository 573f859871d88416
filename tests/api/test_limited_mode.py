"""DISABLE_REDIS=true: the API alone, tasks executed in its own process (documented as limited)."""

import pytest

from api import create_app
from workers import process_state


@pytest.fixture()
def limited_client(base_settings, production_model):
    settings = base_settings.replace(disable_redis=True, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    yield app.test_client()
    process_state.reset()


def test_classification_runs_in_process_without_redis(limited_client, production_model):
    response = limited_client.post("/v2/classify-event", json={
        "title": "주간 회의", "startTime": "2024-01-22T10:00:00", "endTime": "2024-01-22T11:00:00"})
    assert response.status_code == 200, response.json
    assert response.json["eventType"] == "WORK" and response.json["modelVersion"] == production_model


def test_async_tasks_are_answered_from_this_process(limited_client):
    accepted = limited_client.post("/v2/classify-events?async=true", json={"events": [
        {"title": "Yoga", "startTime": "2024-01-22T07:00:00", "endTime": "2024-01-22T08:00:00"}]})
    assert accepted.status_code == 202
    status = limited_client.get(f"/tasks/{accepted.json['taskId']}").json
    assert status["state"] == "SUCCESS" and status["result"]["results"][0]["eventType"] == "HEALTH"
    assert limited_client.get("/tasks/unknown").status_code == 404


def test_health_says_limited(limited_client):
    response = limited_client.get("/health")
    assert response.status_code == 200 and response.json["status"] == "limited"


def test_explanations_work_without_redis(limited_client):
    response = limited_client.post("/v2/classify-event?explain=true", json={
        "title": "주간 회의", "startTime": "2024-01-22T10:00:00", "endTime": "2024-01-22T11:00:00"})
    assert response.status_code == 200, response.json
    assert response.json["explanation"]["class"] == response.json["eventType"]


def test_shadow_deployments_need_redis_and_say_so(base_settings, production_model):
    from tests.conftest import keyed_client

    settings = base_settings.replace(disable_redis=True, redis_url="redis://127.0.0.1:1/0")
    client = keyed_client(create_app(settings))
    try:
        for method, path, body in (("post", "/models/event_classifier/shadow", {"version": "1"}),
                                   ("get", "/models/event_classifier/shadow", None),
                                   ("delete", "/models/event_classifier/shadow", None),
                                   ("post", "/models/event_classifier/shadow/promote", None)):
            answer = getattr(client, method)(path, json=body) if body else getattr(client, method)(path)
            assert answer.status_code == 503, (path, answer.json)
            assert answer.json["error"]["details"]["dependency"] == "redis" and "Retry-After" in answer.headers
            assert "Shadow deployments" in answer.json["error"]["message"]
    finally:
        process_state.reset()
