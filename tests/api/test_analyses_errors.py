"""Bad analysis requests are a 400/422 naming the field, answered by the API before anything is enqueued."""

import pytest

from geulpi_tasks.analyses.defaults import MAX_EVENTS

EVENT = {"title": "Team standup", "startTime": "2024-05-06T09:00:00", "endTime": "2024-05-06T09:30:00",
         "category": "WORK"}
BODIES = {
    "/analyze-balance": {"userId": "u1", "startDate": "2024-05-06", "endDate": "2024-05-12", "events": [EVENT]},
    "/optimize-schedule": {"userId": "u1", "targetDate": "2024-05-06", "events": [EVENT]},
    "/detect-patterns": {"userId": "u1", "events": [EVENT]},
    "/analyze-burnout": {"userId": "u1", "events": [EVENT]},
}
PATHS = list(BODIES)


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json["error"]) == {"code", "message", "details"}
    return response.json["error"]


def _without(body, key):
    return {k: v for k, v in body.items() if k != key}


@pytest.fixture()
def no_task_is_enqueued(api_app, monkeypatch):
    """Validation must answer before the gateway is touched: any enqueue fails the test."""
    gateway = api_app.extensions["geulpi"].gateway

    def refuse(name, *_, **__):
        raise AssertionError(f"{name} was enqueued for a request that should have been rejected")

    monkeypatch.setattr(gateway, "run", refuse)
    monkeypatch.setattr(gateway, "submit", refuse)


pytestmark = pytest.mark.usefixtures("no_task_is_enqueued")


@pytest.mark.parametrize("path", PATHS)
def test_missing_events_is_400_naming_events(client, path):
    error = _error(client.post(path, json=_without(BODIES[path], "events")), 400)
    assert error["details"]["field"] == "events"


@pytest.mark.parametrize("path", PATHS)
def test_missing_user_id_is_400(client, path):
    assert _error(client.post(path, json=_without(BODIES[path], "userId")), 400)["details"]["field"] == "userId"


@pytest.mark.parametrize("path", PATHS)
def test_bad_event_names_the_element(client, path):
    body = {**BODIES[path], "events": [EVENT, {**EVENT, "endTime": "2024-05-06T08:00:00"}]}
    assert _error(client.post(path, json=body), 422)["details"]["field"] == "events[1].endTime"
    body = {**BODIES[path], "events": [{**EVENT, "category": "CHORES"}]}
    assert _error(client.post(path, json=body), 400)["details"]["field"] == "events[0].category"


@pytest.mark.parametrize("path", PATHS)
def test_events_over_the_limit_are_400(client, path):
    body = {**BODIES[path], "events": [EVENT] * (MAX_EVENTS + 1)}
    error = _error(client.post(path, json=body), 400)
    assert error["code"] == "batch_too_large" and error["details"]["field"] == "events"
    assert error["details"]["limit"] == MAX_EVENTS


@pytest.mark.parametrize("path", PATHS)
def test_non_json_body_is_400_naming_body(client, path):
    error = _error(client.post(path, data="userId=u1", content_type="text/plain"), 400)
    assert error["code"] == "invalid_json" and error["details"]["field"] == "body"
    assert _error(client.post(path, data="{broken", content_type="application/json"), 400)["details"]["field"] == "body"
    assert _error(client.post(path), 400)["details"]["field"] == "body"
    assert _error(client.post(path, json=[BODIES[path]]), 400)["details"]["field"] == "body"


@pytest.mark.parametrize("change, field, status", [
    ({"startDate": "06/05/2024"}, "startDate", 400),
    ({"endDate": None}, "endDate", 400),
    ({"endDate": "2024-05-01"}, "endDate", 422),
    ({"startDate": "2023-01-01", "endDate": "2024-05-12"}, "endDate", 422),
    ({"targets": {"WORK": 50, "HEALTH": 30}}, "targets", 422),
    ({"targets": {"WORK": "lots", "HEALTH": 100}}, "targets.WORK", 400),
    ({"targets": {"WORK": -10, "HEALTH": 110}}, "targets.WORK", 422),
    ({"targets": [40, 60]}, "targets", 400),
])
def test_bad_balance_request_names_the_field(client, change, field, status):
    error = _error(client.post("/analyze-balance", json={**BODIES["/analyze-balance"], **change}), status)
    assert error["details"]["field"] == field


@pytest.mark.parametrize("change, field, status", [
    ({"targetDate": None}, "targetDate", 400),
    ({"targetDate": "next monday"}, "targetDate", 400),
    ({"startDate": "2024-05-06", "endDate": "2024-05-07"}, "targetDate", 422),
    ({"constraints": {"workingHour": {"start": "09:00", "end": "17:00"}}}, "constraints.workingHour", 400),
    ({"constraints": {"workingHours": {"start": "18:00", "end": "09:00"}}}, "constraints.workingHours.end", 422),
    ({"constraints": {"daysOff": ["FUNDAY"]}}, "constraints.daysOff[0]", 422),
    ({"constraints": {"fixedEventIds": ["nope"]}}, "constraints.fixedEventIds[0]", 422),
    ({"preferences": {"maxSuggestions": 0}}, "preferences.maxSuggestions", 422),
    ({"preferences": {"colour": "blue"}}, "preferences.colour", 400),
])
def test_bad_schedule_request_names_the_field(client, change, field, status):
    error = _error(client.post("/optimize-schedule", json={**BODIES["/optimize-schedule"], **change}), status)
    assert error["details"]["field"] == field


def test_schedule_window_end_before_start_is_422(client):
    body = {**_without(BODIES["/optimize-schedule"], "targetDate"), "startDate": "2024-05-10",
            "endDate": "2024-05-06"}
    assert _error(client.post("/optimize-schedule", json=body), 422)["details"]["field"] == "endDate"


def test_duplicate_event_ids_are_422_for_schedule(client):
    body = {**BODIES["/optimize-schedule"], "events": [{**EVENT, "eventId": "a"}, {**EVENT, "eventId": "a"}]}
    assert _error(client.post("/optimize-schedule", json=body), 422)["details"]["field"] == "events[1].eventId"


@pytest.mark.parametrize("path, change, field, status", [
    ("/detect-patterns", {"lookbackDays": 0}, "lookbackDays", 422),
    ("/detect-patterns", {"lookbackDays": "ninety"}, "lookbackDays", 400),
    ("/detect-patterns", {"minConfidence": 1.5}, "minConfidence", 422),
    ("/analyze-burnout", {"lookbackDays": 10_000}, "lookbackDays", 422),
    ("/analyze-burnout", {"includeRecommendations": "yes"}, "includeRecommendations", 400),
])
def test_bad_options_name_the_field(client, path, change, field, status):
    error = _error(client.post(path, json={**BODIES[path], **change}), status)
    assert error["details"]["field"] == field


@pytest.mark.parametrize("path", PATHS)
def test_bad_async_flag_is_400(client, path):
    assert _error(client.post(f"{path}?async=maybe", json=BODIES[path]), 400)["details"]["field"] == "async"


@pytest.mark.parametrize("path", PATHS)
def test_only_post_is_allowed(client, path):
    assert _error(client.get(path), 405)["code"] == "method_not_allowed"


def test_openapi_documents_the_four_analyses(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in PATHS:
        operation = paths[path]["post"]
        assert {"200", "202", "400", "422", "503", "504"} <= set(operation["responses"])
        assert operation["parameters"][0]["name"] == "async"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fixed", [{}, "yes", 1, []])
def test_a_fixed_flag_that_is_not_a_boolean_is_a_400_on_every_analysis(client, path, fixed):
    # The schema documents "fixed" as boolean or null everywhere (the fuzzer found async calls accepting {}).
    body = {**BODIES[path], "events": [{**EVENT, "fixed": fixed}]}
    for suffix in ("", "?async=true"):
        assert _error(client.post(path + suffix, json=body), 400)["details"]["field"] == "events[0].fixed"
