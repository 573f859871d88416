"""Classification results live minutes, not a day, once the API has read them; arguments shown to Flower and task
events are redacted unless GEULPI_FLOWER_FULL_ARGS asks for them (debugging)."""

from __future__ import annotations

import json
import time
import uuid

import redis

from api import create_app
from tests.conftest import keyed_client

EVENT = {"title": "Therapy session with Dr. Lee", "description": "anxiety follow-up",
         "startTime": "2025-05-02T15:00:00", "endTime": "2025-05-02T16:00:00"}


def _result_key(app, task_id: str) -> str:  # type: ignore[no-untyped-def]
    return app.extensions["geulpi"].celery.backend.get_key_for_task(task_id).decode()


def test_a_classification_result_read_by_the_api_expires_within_minutes(api_app, base_settings, inference_worker):
    client = keyed_client(api_app)
    request_id = f"privacy-{uuid.uuid4().hex}"
    answer = client.post("/v2/classify-event?async=true", json={**EVENT, "requestId": request_id})
    assert answer.status_code == 202
    task_id = answer.json["taskId"]
    deadline_polls = 300
    body = client.get(f"/tasks/{task_id}").json
    while not body["ready"] and deadline_polls:
        deadline_polls -= 1
        time.sleep(0.1)
        body = client.get(f"/tasks/{task_id}").json
    assert body["ready"] and body["state"] == "SUCCESS", body
    ttl = redis.Redis.from_url(base_settings.redis_url).ttl(_result_key(api_app, task_id))
    assert 0 < ttl <= base_settings.classify_result_ttl_s, ttl  # not the 24 h jobs keep


def test_arguments_are_redacted_for_flower_unless_full_arguments_are_asked_for(base_settings, celery_client):
    redacted = create_app(base_settings, celery=celery_client).extensions["geulpi"].gateway
    full = create_app(base_settings.replace(flower_full_args=True),
                      celery=celery_client).extensions["geulpi"].gateway
    shown = redacted._publish_options([EVENT])["argsrepr"]
    assert "Therapy" not in shown and "anxiety" not in shown
    assert len(EVENT["title"]) and str(len(EVENT["title"])) in shown  # its length stands in for the text
    shown_full = json.loads(full._publish_options([EVENT])["argsrepr"])
    assert shown_full[0]["title"] == EVENT["title"] and shown_full[0]["description"] == EVENT["description"]
