"""?explain=true through a real inference worker: each answer carries an explanation whose figures add up to the
margin of the probabilities it answered; a call without it carries none; a bad value is a 400 naming the field."""

import math

import pytest

from geulpi_tasks.models.explain import ADDITIVITY_TOLERANCE, TOP_TERMS, explanation_total

pytestmark = pytest.mark.usefixtures("inference_worker")

STANDUP = {"title": "Team standup meeting", "description": "Daily sync", "startTime": "2024-01-22T09:00:00",
           "endTime": "2024-01-22T09:30:00"}


def _check(body: dict) -> None:
    explanation = body["explanation"]
    probs = body["probabilities"]
    assert explanation["class"] == body["eventType"]
    assert probs[explanation["runnerUp"]] == sorted(probs.values())[-2]
    total, text_total = explanation_total(explanation)
    assert abs(total - explanation["margin"]) <= ADDITIVITY_TOLERANCE + 2e-5
    assert abs(text_total - explanation["text"]["margin"]) <= 2e-5
    if explanation["units"] == "log_odds" and probs[explanation["runnerUp"]] > 1e-4:
        # Probabilities are rounded to 1e-6 on the wire.
        answered = math.log(probs[body["eventType"]] / probs[explanation["runnerUp"]])
        assert abs(answered - explanation["margin"]) <= 0.02
    assert 1 <= len(explanation["terms"]) <= TOP_TERMS and len(explanation["features"]) == 5


def test_single_classification_explains_itself_when_asked(client):
    plain = client.post("/v2/classify-event", json=STANDUP)
    explained = client.post("/v2/classify-event?explain=true", json=STANDUP)
    assert plain.status_code == explained.status_code == 200, explained.json
    assert "explanation" not in plain.json
    assert explained.json["probabilities"] == plain.json["probabilities"]
    _check(explained.json)
    terms = [t["term"] for t in explained.json["explanation"]["terms"]]
    assert any(word in t for t in terms for word in ("standup", "meet", "sync", "team", "stand"))


def test_every_event_of_a_batch_is_explained(client):
    events = [{**STANDUP, "eventId": "a"}, {"title": "요가 수업", "startTime": "2024-01-23T07:00:00",
                                           "endTime": "2024-01-23T08:00:00", "eventId": "b"}]
    response = client.post("/v2/classify-events?explain=1", json={"events": events})
    assert response.status_code == 200, response.json
    for result in response.json["results"]:
        _check(result)
    plain = client.post("/v2/classify-events", json={"events": events}).json
    assert all("explanation" not in r for r in plain["results"])


def test_a_bad_explain_value_is_a_400_naming_it(client):
    response = client.post("/v2/classify-event?explain=maybe", json=STANDUP)
    assert response.status_code == 400
    assert response.json["error"]["details"]["field"] == "explain"
