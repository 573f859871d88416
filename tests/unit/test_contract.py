"""Request and response shapes are declared once, as pydantic models: the parsers, the error details and the
OpenAPI components all come from them."""

from __future__ import annotations

import pytest

from api.schema import ANSWERS, REQUESTS, model_components
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.feedback import parse_feedback
from geulpi_tasks.monitoring.alerts import parse_alert
from geulpi_tasks.schemas import parse_events
from geulpi_tasks.training.request import parse_training_request

EVENT = {"title": "Standup", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_every_model_is_a_component_and_every_reference_resolves(api_app):
    document = api_app.test_client().get("/openapi.json").json
    components = document["components"]["schemas"]
    assert {model.__name__ for model in (*REQUESTS, *ANSWERS)} <= set(components)
    assert sorted(r for r in _refs(document) if r.removeprefix("#/components/schemas/") not in components) == []
    generated = model_components()
    for name in ("Event", "AlertRule", "TrainingRequestBody", "FeedbackRequest", "Classification", "Error"):
        assert components[name] == generated[name], name


def test_generated_components_keep_the_documented_constraints():
    components = model_components()
    assert components["Event"]["required"] == ["title", "startTime", "endTime"]
    assert components["AlertRule"]["additionalProperties"] is False
    assert components["TrainingRequestBody"]["required"] == ["model_type"]
    assert components["FeedbackRequest"]["required"] == ["category"]
    assert components["EventBatch"]["properties"]["events"]["maxItems"] == 1000
    assert "title" not in components["Event"]["properties"]["title"]  # no generated property titles


@pytest.mark.parametrize("parse, body, family, field", [
    (lambda b: parse_events(b, max_count=10), [EVENT, {**EVENT, "attendees": ["a", {}]}], InvalidInput,
     "events[1].attendees[1]"),
    (lambda b: parse_events(b, max_count=10), [EVENT, EVENT, {**EVENT, "endTime": "2024-01-20T08:00:00"}],
     InvalidValue, "events[2].endTime"),
    (parse_feedback, {"eventId": "e", "category": "WORK", "event": {**EVENT, "attendees": [5]}}, InvalidInput,
     "event.attendees[0]"),
    (parse_feedback, {"eventId": "e", "category": "WORK", "event": {**EVENT, "eventId": "other"}}, InvalidValue,
     "event.eventId"),
    (parse_alert, {"name": "r", "metric_name": "accuracy", "condition": "<", "threshold": 1, "window_seconds": 0,
                   "severity": "loud"}, InvalidValue, "window_seconds"),
    (parse_training_request, {"model_type": "event_classifier", "automl": True, "multi_objective": True},
     InvalidValue, "automl"),
    (parse_training_request, {"model_type": "event_classifier", "training_data": [
        {**EVENT, "category": "WORK"}] * 59 + [{**EVENT, "endTime": "2024-01-19T09:00:00", "category": "HEALTH"}]},
     InvalidValue, "training_data[59].endTime"),
])
def test_errors_name_the_field_where_it_is(parse, body, family, field):
    with pytest.raises(family) as info:
        parse(body)
    assert type(info.value) is family and info.value.details["field"] == field


def test_unknown_fields_keep_their_codes():
    with pytest.raises(InvalidInput) as info:
        parse_training_request({"model_type": "event_classifier", "model_path": "/tmp/model.pkl"})
    assert info.value.code == "unknown_field" and info.value.details["field"] == "model_path"
    with pytest.raises(InvalidInput) as info:
        parse_training_request({"model_type": "bert"})
    assert info.value.code == "unknown_model_type"
    with pytest.raises(InvalidInput) as info:
        parse_alert({"name": "r", "metric_name": "accuracy", "condition": "<", "threshold": 1, "builtin": True})
    assert info.value.details["field"] == "builtin"
