"""Every bad request is a 4xx with a JSON body naming the field; none reaches a worker or becomes a 500."""

import re

import pytest

GOOD = {"title": "Team standup", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json["error"]) == {"code", "message", "details"}
    return response.json["error"]


@pytest.mark.parametrize("body, field, status", [
    ({k: v for k, v in GOOD.items() if k != "title"}, "title", 400),
    ({**GOOD, "title": "   "}, "title", 400),
    ({**GOOD, "endTime": "2024-01-20T08:00:00"}, "endTime", 422),
    ({**GOOD, "startTime": "20/01/2024 9am"}, "startTime", 400),
    ({**GOOD, "endTime": 12345}, "endTime", 400),
    ([GOOD], "body", 400),
])
def test_bad_event_is_rejected_naming_the_field(client, body, field, status):
    error = _error(client.post("/v2/classify-event", json=body), status)
    assert error["details"]["field"] == field


def test_non_json_body_is_400(client):
    error = _error(client.post("/v2/classify-event", data="title=hello", content_type="text/plain"), 400)
    assert error["code"] == "invalid_json" and error["details"]["field"] == "body"
    error = _error(client.post("/v2/classify-event", data="{broken", content_type="application/json"), 400)
    assert error["details"]["field"] == "body"


def test_empty_body_is_400(client):
    assert _error(client.post("/v2/classify-event"), 400)["details"]["field"] == "body"


def test_batch_over_the_limit_is_400(client, api_app):
    limit = api_app.extensions["geulpi"].settings.max_batch_size
    error = _error(client.post("/v2/classify-events", json={"events": [GOOD] * (limit + 1)}), 400)
    assert error["code"] == "batch_too_large" and error["details"]["field"] == "events"


def test_batch_element_errors_name_the_element(client):
    error = _error(client.post("/v2/classify-events", json={"events": [GOOD, {**GOOD, "startTime": "x"}]}), 400)
    assert error["details"]["field"] == "events[1].startTime"


def test_bad_async_flag_is_400(client):
    assert _error(client.post("/v2/classify-event?async=maybe", json=GOOD), 400)["details"]["field"] == "async"


def test_unknown_route_and_method_are_json(client):
    assert _error(client.get("/nope"), 404)["code"] == "not_found"
    assert _error(client.get("/v2/classify-event"), 405)["code"] == "method_not_allowed"


def test_oversized_body_is_413(client, api_app):
    limit = api_app.extensions["geulpi"].settings.max_request_bytes
    response = client.post("/v2/classify-event", data=b"x" * (limit + 10), content_type="application/json")
    assert _error(response, 413)["code"] == "request_entity_too_large"


def test_openapi_lists_every_route(client, api_app):
    document = client.get("/openapi.json").json
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in document["paths"]}
    served = {rule.rule for rule in api_app.url_map.iter_rules() if rule.endpoint != "static"}
    assert served == documented
