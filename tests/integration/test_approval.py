"""Approval before production (GEULPI_REQUIRE_APPROVAL) on the real stack: a real Redis, MLflow on SQLite in a temp
folder, the API's own app, the CLI, and a real training worker for the nightly job.

Each test works on its own registered model (copies of the session's production bundle), so the served
``event_classifier`` never moves. Expiry is tested with an injected clock, and once through the API with a 1 s TTL
polled until the request shows as expired (no fixed sleep).
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from api import create_app
from geulpi_tasks import approval
from geulpi_tasks.cli import main as cli
from geulpi_tasks.errors import Conflict, Forbidden
from geulpi_tasks.privacy.audit import key_id, read_audit
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.registry.lifecycle import promote_version
from geulpi_tasks.registry.store import client_for, download_bundle, find_version_by_alias
from tests.conftest import TEST_API_KEY, WorkerProcess, keyed_client
from tests.integration.test_lifecycle import _register
from workers.task_names import NIGHTLY_RETRAIN

SECOND_KEY = f"second-key-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def bundle(base_settings, production_model, tmp_path_factory):
    return download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                           tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def settings(base_settings):
    return base_settings.replace(require_approval=True, api_keys=f"{TEST_API_KEY},{SECOND_KEY}",
                                 compare_eval_samples=200)


@pytest.fixture(scope="module")
def app(settings, celery_client):
    return create_app(settings, celery=celery_client)


@pytest.fixture()
def requester(app):
    return keyed_client(app)


@pytest.fixture()
def approver(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {SECOND_KEY}"
    return client


@pytest.fixture()
def model(settings, bundle):
    """A fresh model: version 1 in Production (promoted directly), version 2 in Staging."""
    name = f"ap-{uuid.uuid4().hex[:8]}"
    uri = settings.effective_tracking_uri
    v1, v2 = _register(settings, bundle, name, "1.0.0"), _register(settings, bundle, name, "1.1.0")
    promote_version(uri, name, v1, "Staging")
    promote_version(uri, name, v1, "Production")
    promote_version(uri, name, v2, "Staging")
    return name, v1, v2


@pytest.fixture()
def store(settings):
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


def _production(settings, name):
    ref = find_version_by_alias(settings.effective_tracking_uri, name)
    return ref.version if ref else None


def _audit(store, settings, approval_id):
    return [(e["action"], e["outcome"], e["actor"]) for e in read_audit(store, settings.key_prefix, action="approvals")
            if e["target"].endswith(f"#{approval_id}")]


def _request(requester, name, version):
    response = requester.post(f"/models/{name}/promote?version={version}&target_stage=Production")
    assert response.status_code == 202, response.get_data(as_text=True)
    return response


def test_promote_opens_a_request_that_a_second_key_approves(requester, approver, model, settings, store):
    name, v1, v2 = model
    response = _request(requester, name, v2)
    body = response.json
    assert response.headers["Location"] == f"/models/{name}/approvals/{body['approval_id']}"
    assert body["state"] == "pending" and body["version"] == v2
    assert body["requested_by"] == key_id(TEST_API_KEY) and TEST_API_KEY not in response.get_data(as_text=True)
    evidence = body["evidence"]
    assert evidence["production_version"] == v1
    assert set(evidence["gates"]) == {"passed", "reasons", "production_version"}
    assert evidence["gates"]["reasons"]  # test copies log no realistic metrics: the gates say so
    assert evidence["comparison"] == {"status": "pending"}  # queued on the training queue
    assert evidence["shadow"] is None  # no shadow deployment ran
    assert _production(settings, name) == v1  # nothing promoted yet

    # Asking again with the same key answers the same request; another key gets 409 naming it.
    assert _request(requester, name, v2).json["approval_id"] == body["approval_id"]
    conflict = approver.post(f"/models/{name}/promote?version={v2}&target_stage=Production")
    assert conflict.status_code == 409 and conflict.json["error"]["code"] == "approval_pending"
    assert conflict.json["error"]["details"]["approvalId"] == body["approval_id"]

    url = f"/models/{name}/approvals/{body['approval_id']}"
    assert requester.get(url).json["state"] == "pending"
    listed = requester.get(f"/models/{name}/approvals?state=pending").json
    assert [a["approval_id"] for a in listed["approvals"]] == [body["approval_id"]]

    refused = requester.post(f"{url}/approve")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "self_approval"
    assert _production(settings, name) == v1

    approved = approver.post(f"{url}/approve", json={"reason": "compared, looks good"})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.json["state"] == "approved" and approved.json["decided_by"] == key_id(SECOND_KEY)
    assert approved.json["promotion"]["stage"] == "Production" and approved.json["promotion"]["archived"] == [v1]
    assert _production(settings, name) == v2
    again = approver.post(f"{url}/approve")
    assert again.status_code == 409 and again.json["error"]["code"] == "approval_decided"

    trail = _audit(store, settings, body["approval_id"])
    assert ("approvals.requested", "pending", key_id(TEST_API_KEY)) in trail
    assert ("approvals.refused", "self_approval", key_id(TEST_API_KEY)) in trail
    assert ("approvals.approved", "ok", key_id(SECOND_KEY)) in trail
    calls = read_audit(store, settings.key_prefix, action="models.approvals.approve")
    assert {(c["target"], c["status"]) for c in calls} >= {(f"{name}#{body['approval_id']}", 403),
                                                             (f"{name}#{body['approval_id']}", 200)}


def test_a_rejected_request_promotes_nothing_and_cannot_be_approved(requester, approver, model, settings, store):
    name, v1, v2 = model
    approval_id = _request(requester, name, v2).json["approval_id"]
    url = f"/models/{name}/approvals/{approval_id}"
    rejected = approver.post(f"{url}/reject", json={"reason": "not yet"})
    assert rejected.status_code == 200
    assert rejected.json["state"] == "rejected" and rejected.json["reason"] == "not yet"
    late = approver.post(f"{url}/approve")
    assert late.status_code == 409 and late.json["error"]["code"] == "approval_decided"
    assert _production(settings, name) == v1
    assert requester.get(f"/models/{name}/approvals?state=rejected").json["count"] == 1
    assert ("approvals.rejected", "ok", key_id(SECOND_KEY)) in _audit(store, settings, approval_id)
    # A new request can be opened once the old one is decided.
    assert _request(requester, name, v2).json["approval_id"] != approval_id


def test_bad_approval_calls_are_4xx_naming_the_field(requester, approver, model):
    name, _v1, v2 = model
    assert requester.get(f"/models/{name}/approvals?state=maybe").json["error"]["details"]["field"] == "state"
    missing = approver.post(f"/models/{name}/approvals/{'0' * 16}/approve")
    assert missing.status_code == 404 and missing.json["error"]["details"]["field"] == "approval_id"
    assert approver.get(f"/models/{name}/approvals/not-an-id").status_code == 404
    approval_id = _request(requester, name, v2).json["approval_id"]
    bad = approver.post(f"/models/{name}/approvals/{approval_id}/reject", json={"reason": 7})
    assert bad.status_code == 400 and bad.json["error"]["details"]["field"] == "reason"
    other_model = approver.post(f"/models/other-{name}/approvals/{approval_id}/approve")
    assert other_model.status_code == 404
    unkeyed = requester.application.test_client().post(f"/models/{name}/approvals/{approval_id}/approve")
    assert unkeyed.status_code == 401
    # Only a Staging version can be requested, as without approval.
    none_stage = requester.post(f"/models/{name}/promote?version=999&target_stage=Production")
    assert none_stage.status_code == 404


def test_expiry_with_an_injected_clock(model, settings, store):
    name, v1, v2 = model
    uri = settings.effective_tracking_uri
    policy = approval.ApprovalPolicy(ttl_s=60, retention_s=3600, audit_max_age_s=3600)
    t0 = time.time()
    request, created = approval.request_promotion(store, settings.key_prefix, policy, uri, name, v2,
                                                  requested_by="key:aaaaaaaaaaaa", source="test",
                                                  gates=PromotionGates(), now=t0)
    assert created and request.expires_at == t0 + 60
    still = approval.get_request(store, settings.key_prefix, policy, name, request.approval_id, now=t0 + 59)
    assert still.state is approval.ApprovalState.PENDING
    with pytest.raises(Conflict) as err:
        approval.approve_request(store, settings.key_prefix, policy, uri, name, request.approval_id,
                                 approved_by="key:bbbbbbbbbbbb", source="test", now=t0 + 61)
    assert err.value.code == "approval_expired"
    expired = approval.list_requests(store, settings.key_prefix, policy, name, now=t0 + 61)
    assert [(r.approval_id, r.state) for r in expired] == [(request.approval_id, approval.ApprovalState.EXPIRED)]
    assert _production(settings, name) == v1
    trail = _audit(store, settings, request.approval_id)
    assert [t[:2] for t in trail].count(("approvals.expired", "expired")) == 1
    assert ("approvals.refused", "approval_expired", "key:bbbbbbbbbbbb") in trail
    # The version is free again: a new request can be opened after the old one expired.
    fresh, created = approval.request_promotion(store, settings.key_prefix, policy, uri, name, v2,
                                                requested_by="key:aaaaaaaaaaaa", source="test",
                                                gates=PromotionGates(), now=t0 + 62)
    assert created and fresh.approval_id != request.approval_id
    with pytest.raises(Forbidden):
        approval.approve_request(store, settings.key_prefix, policy, uri, name, fresh.approval_id,
                                 approved_by="key:aaaaaaaaaaaa", source="test", now=t0 + 63)


def test_an_expired_request_shows_as_expired_and_cannot_be_approved_through_the_api(settings, celery_client, model):
    name, v1, v2 = model
    app = create_app(settings.replace(approval_ttl_s=1), celery=celery_client)
    requester, approver = keyed_client(app), app.test_client()
    approver.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {SECOND_KEY}"
    approval_id = _request(requester, name, v2).json["approval_id"]
    url = f"/models/{name}/approvals/{approval_id}"
    deadline = time.monotonic() + 30
    state = "pending"
    while state == "pending" and time.monotonic() < deadline:
        state = requester.get(url).json["state"]
        time.sleep(0.1)
    assert state == "expired"
    refused = approver.post(f"{url}/approve")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "approval_expired"
    assert _production(settings, name) == v1


def test_rollback_stays_immediate_and_other_stages_need_no_approval(requester, model, settings):
    name, v1, v2 = model
    rolled = requester.post(f"/models/{name}/rollback")  # v1 has no earlier production version
    assert rolled.status_code == 409 and rolled.json["error"]["code"] == "nothing_to_roll_back"
    promote_version(settings.effective_tracking_uri, name, v2, "Production")  # directly, as an earlier approval
    rolled = requester.post(f"/models/{name}/rollback")
    assert rolled.status_code == 200, rolled.get_data(as_text=True)
    assert rolled.json["to_version"] == v1 and _production(settings, name) == v1
    assert requester.get(f"/models/{name}/approvals").json["count"] == 0
    archived = requester.post(f"/models/{name}/promote?version={v2}&target_stage=Staging")
    assert archived.status_code == 200 and archived.json["stage"] == "Staging"


def test_limited_mode_refuses_approvals_with_503(settings, model):
    name, _v1, v2 = model
    app = create_app(settings.replace(disable_redis=True))
    client = keyed_client(app)
    promote = client.post(f"/models/{name}/promote?version={v2}&target_stage=Production")
    assert promote.status_code == 503 and promote.json["error"]["details"]["dependency"] == "redis"
    assert client.get(f"/models/{name}/approvals").status_code == 503
    assert client.post(f"/models/{name}/approvals/{'0' * 16}/approve").status_code == 503
    assert _production(settings, name) == _v1


def test_cli_lists_approves_and_rejects(model, settings, store, capsys):
    import json

    name, v1, v2 = model
    cli_settings = settings.replace(client_api_key=TEST_API_KEY)
    assert cli(["models", "promote", v2, "Production", "--name", name], settings=cli_settings) == 0
    pending = json.loads(capsys.readouterr().out)
    assert pending["state"] == "pending" and pending["requested_by"] == key_id(TEST_API_KEY)
    comparison = pending["evidence"]["comparison"]  # the CLI compares with production at once
    assert comparison["status"] == "done" and comparison["version_a"] == v1 and comparison["version_b"] == v2
    assert cli(["models", "approvals", "--name", name, "--state", "pending"], settings=settings) == 0
    assert [a["approval_id"] for a in json.loads(capsys.readouterr().out)["approvals"]] == [pending["approval_id"]]
    assert cli(["models", "approve", pending["approval_id"], "--name", name], settings=cli_settings) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "self_approval"
    assert cli(["models", "approve", pending["approval_id"], "--name", name], settings=settings) == 2  # no key
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "missing_api_key"
    assert cli(["models", "approve", pending["approval_id"], "--name", name, "--api-key", SECOND_KEY],
               settings=settings) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "approved"
    assert _production(settings, name) == v2
    promote_version(settings.effective_tracking_uri, name, v1, "Staging")
    assert cli(["models", "promote", v1, "Production", "--name", name], settings=cli_settings) == 0
    second = json.loads(capsys.readouterr().out)["approval_id"]
    assert cli(["models", "reject", second, "--name", name, "--reason", "no"], settings=cli_settings) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "rejected"
    assert _production(settings, name) == v2


def test_nightly_job_stops_at_a_pending_request(base_settings, celery_client, tmp_path):
    # Its own registry and key prefix, so the nightly candidate touches nothing the session's workers serve.
    tracking = f"sqlite:///{tmp_path / 'nightly.db'}"
    settings = base_settings.replace(mlflow_tracking_uri=tracking, training_samples=1500, retrain_trials=2,
                                     gate_min_accuracy=0.0, gate_min_macro_precision=0.0, gate_min_macro_recall=0.0,
                                     trial_heartbeat_s=1.0, require_approval=True,
                                     key_prefix=f"geulpi-approval-{uuid.uuid4().hex[:6]}")
    queue = f"training-approval-{uuid.uuid4().hex[:6]}"
    # The worker also serves the training queue, where the job queues the request's comparison.
    worker = WorkerProcess("workers.training", settings, tmp_path / "nightly.log", "-Q", f"{queue},training")
    store = redis.Redis.from_url(settings.redis_url)
    policy = approval.ApprovalPolicy.from_settings(settings)
    try:
        worker.wait_ready(celery_client)
        job = celery_client.send_task(NIGHTLY_RETRAIN, queue=queue)
        final = job.get(timeout=240, propagate=True)
        assert final["status"] == "pending_approval", final["promotion"]
        pending = final["promotion"]["pending_approval"]
        assert pending["requested_by"] == f"job:{job.id}" and pending["source"] == "training"
        assert pending["evidence"]["gates"]["passed"] is True
        assert any(k.startswith("realistic_dev_") for k in pending["evidence"]["metrics"])
        version = final["version"]
        assert client_for(tracking).get_model_version("event_classifier", version).tags["stage"] == "Staging"
        assert find_version_by_alias(tracking, "event_classifier") is None  # nothing promoted
        # The comparison runs on the training queue after the job (no production here to compare with).
        deadline = time.monotonic() + 60
        request = approval.get_request(store, settings.key_prefix, policy, "event_classifier",
                                       pending["approval_id"])
        while request.evidence["comparison"]["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            request = approval.get_request(store, settings.key_prefix, policy, "event_classifier",
                                           pending["approval_id"])
        assert request.evidence["comparison"] == {"status": "no_production_version"}
    finally:
        worker.stop()
    approved = approval.approve_request(store, settings.key_prefix, policy, tracking, "event_classifier",
                                        pending["approval_id"], approved_by=key_id(TEST_API_KEY), source="test")
    assert approved.state is approval.ApprovalState.APPROVED
    assert find_version_by_alias(tracking, "event_classifier").version == version
    store.close()
