"""Rate limits on the real stack: counted in the test Redis per API key and per userId, 429 in the error envelope
with Retry-After, off by default. Limits are per hour, so no window ends during a test (nothing depends on timing)."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import yaml

from api import create_app
from api.limits import user_of
from geulpi_tasks.settings import PROJECT_ROOT, Settings
from tests.conftest import TEST_API_KEY


@pytest.fixture()
def limited_app(base_settings, celery_client):  # type: ignore[no-untyped-def]
    # A fresh key prefix per test: its counters start at zero.
    settings = dataclasses.replace(base_settings, rate_limits=True, key_prefix=f"rl-{uuid.uuid4().hex[:8]}",
                                   rate_limit_classify="2/hour", rate_limit_analyses="2/hour",
                                   rate_limit_feedback="3/hour", rate_limit_training="1/hour")
    return create_app(settings, celery=celery_client)


def _feedback(user: str | None = None) -> dict:
    event = {"title": "Gym session", "startTime": "2024-01-20T18:00:00", "endTime": "2024-01-20T19:00:00"}
    if user is not None:
        event["userId"] = user
    return {"eventId": f"ev-{uuid.uuid4().hex[:8]}", "category": "HEALTH", "event": event}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _assert_limited(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.json
    error = response.json["error"]
    assert error["code"] == "rate_limited" and error["details"]["field"] == field, error
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600 and error["details"]["retryAfterSeconds"] == retry_after


def test_feedback_over_the_limit_is_429_with_retry_after_and_other_keys_go_on(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert client.post("/feedback", json=_feedback(), headers=_bearer("caller-a")).status_code == 201
    _assert_limited(client.post("/feedback", json=_feedback(), headers=_bearer("caller-a")), "Authorization")
    # Another API key has its own budget.
    assert client.post("/feedback", json=_feedback(), headers=_bearer("caller-b")).status_code == 201


def test_one_user_is_limited_across_api_keys(limited_app):
    client = limited_app.test_client()
    for i in range(3):
        response = client.post("/feedback", json=_feedback(user="user-7"), headers=_bearer(f"device-{i}"))
        assert response.status_code == 201, response.json
    _assert_limited(client.post("/feedback", json=_feedback(user="user-7"), headers=_bearer("device-9")), "userId")
    # Another user on a fresh key is not held back by user-7.
    assert client.post("/feedback", json=_feedback(user="user-8"), headers=_bearer("device-10")).status_code == 201


def test_callers_without_a_key_are_counted_by_address(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert client.post("/feedback", json=_feedback()).status_code == 201
    _assert_limited(client.post("/feedback", json=_feedback()), "Authorization")


@pytest.mark.parametrize("path, body", [
    ("/v2/classify-event", {"title": "", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}),
    ("/v2/classify-events", {"events": []}),
    ("/analyze-balance", {"userId": "u", "events": "not a list"}),
])
def test_classification_and_analyses_count_every_call_even_refused_ones(limited_app, path, body):
    client = limited_app.test_client()
    for _ in range(2):
        assert client.post(path, json=body, headers=_bearer("app")).status_code == 400
    _assert_limited(client.post(path, json=body, headers=_bearer("app")), "Authorization")


def test_training_is_limited_per_key_and_a_missing_key_costs_no_limit(limited_app):
    client = limited_app.test_client()
    for _ in range(3):  # 401 before the limiter: no valid key, no count
        assert client.post("/models/train", json={"model_type": "spam"}).status_code == 401
    assert client.post("/models/train", json={"model_type": "spam"}, headers=_bearer(TEST_API_KEY)).status_code == 400
    _assert_limited(client.post("/models/train", json={"model_type": "spam"}, headers=_bearer(TEST_API_KEY)),
                    "Authorization")


def test_unlimited_endpoints_stay_unlimited(limited_app):
    client = limited_app.test_client()
    for _ in range(5):
        assert client.get("/openapi.json").status_code == 200


def test_limits_are_off_by_default_and_on_in_docker_compose(base_settings, celery_client):
    assert Settings().rate_limits is False and Settings.from_env({}).rate_limits is False
    client = create_app(base_settings, celery=celery_client).test_client()
    for _ in range(8):  # beyond every limit of limited_app; the default app counts nothing
        assert client.post("/feedback", json=_feedback(user="bench")).status_code == 201
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["api"]["environment"]["GEULPI_RATE_LIMITS"].startswith("${GEULPI_RATE_LIMITS:-true")


def test_a_limit_that_does_not_parse_names_its_variable(base_settings, celery_client):
    with pytest.raises(ValueError, match="GEULPI_RATE_LIMIT_TRAINING"):
        create_app(dataclasses.replace(base_settings, rate_limit_training="lots"), celery=celery_client)


@pytest.mark.parametrize("body, user", [
    ({"userId": "u1", "events": []}, "u1"), ({"userId": 42}, "42"), ({"event": {"userId": "u2"}}, "u2"),
    ({"events": [{"userId": "u3"}, {"userId": "u3"}]}, "u3"), ({"events": [{"userId": "u3"}, {"userId": "u4"}]}, None),
    ({"events": [{"userId": "u3"}, {}]}, None), ({"userId": "  "}, None), ([1, 2], None), (None, None),
])
def test_user_of_a_request(body, user):
    assert user_of(body) == user


def test_the_user_is_read_from_a_body_sent_without_a_json_content_type(limited_app):
    client = limited_app.test_client()
    for i in range(3):
        body = json.dumps(_feedback(user="plain-user"))
        assert client.post("/feedback", data=body, content_type="text/plain",
                           headers=_bearer(f"plain-{i}")).status_code == 201
    _assert_limited(client.post("/feedback", data=json.dumps(_feedback(user="plain-user")), content_type="text/plain",
                                headers=_bearer("plain-9")), "userId")
