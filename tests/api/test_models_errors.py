"""Bad requests to the model-lifecycle and feedback endpoints are 4xx with a JSON body naming the problem."""

import uuid

import pytest

from geulpi_tasks.registry.store import download_bundle, register_bundle

EVENT = {"title": "Team standup", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json["error"]) == {"code", "message", "details"}
    return response.json["error"]


@pytest.fixture(scope="module")
def fresh_model(base_settings, production_model, tmp_path_factory):
    """A model with one version in Stage None."""
    bundle = download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                             tmp_path_factory.mktemp("bundle"))
    name = f"err-{uuid.uuid4().hex[:8]}"
    ref = register_bundle(bundle, tracking_uri=base_settings.effective_tracking_uri,
                          artifact_root=base_settings.artifact_root, name=name, description="errors", semver="1.0.0",
                          params={}, metrics={"accuracy": 0.9})
    return name, ref.version


@pytest.mark.parametrize("query, field", [
    ("target_stage=Staging", "version"),
    ("version=1", "target_stage"),
    ("version=abc&target_stage=Staging", "version"),
    ("version=0&target_stage=Staging", "version"),
    ("version=1&target_stage=Live", "target_stage"),
    ("version=1&target_stage=None", "target_stage"),
])
def test_promote_with_missing_or_bad_parameters_is_400(client, fresh_model, query, field):
    name, _ = fresh_model
    assert _error(client.post(f"/models/{name}/promote?{query}"), 400)["details"]["field"] == field


def test_unknown_stage_lists_the_allowed_ones(client, fresh_model):
    name, version = fresh_model
    error = _error(client.post(f"/models/{name}/promote?version={version}&target_stage=Live"), 400)
    assert error["details"]["allowed"] == ["Staging", "Production", "Archived"]


def test_unknown_version_is_404(client, fresh_model):
    name, _ = fresh_model
    error = _error(client.post(f"/models/{name}/promote?version=999&target_stage=Staging"), 404)
    assert "999" in error["message"]


def test_unknown_model_is_404_everywhere(client, production_model):
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    _error(client.get(f"/models/{missing}/versions"), 404)
    _error(client.post(f"/models/{missing}/promote?version=1&target_stage=Staging"), 404)
    _error(client.post(f"/models/{missing}/rollback"), 404)
    _error(client.post(f"/models/compare?model_name={missing}&version_a=1&version_b=2"), 404)


def test_bad_model_name_is_400(client):
    assert _error(client.get("/models/%20bad%20name/versions"), 400)["details"]["field"] == "name"


def test_skipping_staging_is_409_with_the_reason(client, fresh_model):
    name, version = fresh_model
    error = _error(client.post(f"/models/{name}/promote?version={version}&target_stage=Production"), 409)
    assert error["code"] == "invalid_transition" and "Staging first" in error["message"]
    assert error["details"] == {"from": "None", "to": "Production", "allowed": ["Archived", "Staging"]}


def test_archiving_the_serving_version_is_409(client, base_settings, production_model):
    error = _error(client.post(f"/models/{base_settings.model_name}/promote?version={production_model}"
                               "&target_stage=Archived"), 409)
    assert "serving in production" in error["message"]


def test_rollback_without_production_is_409(client, fresh_model):
    name, _ = fresh_model
    assert _error(client.post(f"/models/{name}/rollback"), 409)["code"] == "nothing_to_roll_back"


@pytest.mark.parametrize("query, status, field", [
    ("version_a=1&version_b=2", 400, "model_name"),
    ("model_name=event_classifier&version_b=2", 400, "version_a"),
    ("model_name=event_classifier&version_a=1", 400, "version_b"),
    ("model_name=event_classifier&version_a=x&version_b=1", 400, "version"),
    ("model_name=event_classifier&version_a=1&version_b=1", 422, "version_b"),
])
def test_compare_with_bad_parameters_is_rejected_before_any_work(client, production_model, query, status, field):
    assert _error(client.post(f"/models/compare?{query}"), status)["details"]["field"] == field


def test_compare_with_unknown_version_is_404(client, production_model):
    _error(client.post("/models/compare?model_name=event_classifier&version_a=1&version_b=999"), 404)


@pytest.mark.parametrize("body, status, field", [
    ({"category": "WORK"}, 400, "eventId"),
    ({"eventId": "e1"}, 400, "category"),
    ({"eventId": "e1", "category": "PARTY"}, 400, "category"),
    ({"eventId": "e1", "category": "WORK", "priority": "URGENT"}, 400, "priority"),
    ({"eventId": True, "category": "WORK"}, 400, "eventId"),
    ({"eventId": "e1", "category": "WORK", "event": {"title": "x"}}, 400, "event.startTime"),
    ({"eventId": "e1", "category": "WORK", "event": {**EVENT, "endTime": "2024-01-20T08:00:00"}}, 422,
     "event.endTime"),
    ({"eventId": "e1", "category": "WORK", "event": {**EVENT, "eventId": "e2"}}, 422, "event.eventId"),
    ([1, 2], 400, "body"),
])
def test_bad_feedback_is_rejected_naming_the_field(client, body, status, field):
    assert _error(client.post("/feedback", json=body), status)["details"]["field"] == field


def test_feedback_for_an_event_never_classified_is_404(client):
    error = _error(client.post("/feedback", json={"eventId": f"nope-{uuid.uuid4().hex}", "category": "WORK"}), 404)
    assert error["code"] == "event_not_found" and "send the event itself" in error["message"]


def test_feedback_without_body_is_400(client):
    assert _error(client.post("/feedback"), 400)["details"]["field"] == "body"
