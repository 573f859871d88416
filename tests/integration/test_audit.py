"""The audit trail on the real app and Redis: every mutating endpoint leaves exactly one entry (refused calls too),
with the key's id and never the key; GET /audit reads it with a key only; CLI actions are recorded as the local user.
"""

from __future__ import annotations

import uuid

import pytest
import redis

from geulpi_tasks.cli import main as cli_main
from geulpi_tasks.privacy.audit import key_id, local_actor
from geulpi_tasks.privacy.keys import audit_key
from tests.conftest import TEST_API_KEY, keyed_client
from tests.integration.test_security import MUTATING, _concrete

# Each mutating route, the action it is recorded under.
ACTIONS = {
    ("POST", "/models/train"): "models.train", ("POST", "/models/<name>/promote"): "models.promote",
    ("POST", "/models/<name>/rollback"): "models.rollback", ("POST", "/models/compare"): "models.compare",
    ("POST", "/experiments/create"): "experiments.create", ("POST", "/experiments/<experiment_id>/stop"):
    "experiments.stop", ("POST", "/monitoring/alerts/rules"): "alerts.rules.create",
    ("DELETE", "/monitoring/alerts/rules/<name>"): "alerts.rules.delete", ("DELETE", "/users/<user_id>/data"):
    "users.erase", ("POST", "/models/<name>/shadow"): "models.shadow.start",
    ("DELETE", "/models/<name>/shadow"): "models.shadow.stop",
    ("POST", "/models/<name>/shadow/promote"): "models.shadow.promote",
    ("POST", "/models/<name>/approvals/<approval_id>/approve"): "models.approvals.approve",
    ("POST", "/models/<name>/approvals/<approval_id>/reject"): "models.approvals.reject",
}
# Bodies that do no harm: refused by validation or naming nothing that exists (no job starts, nothing changes).
HARMLESS = {("POST", "/models/train"): {"model_type": "spam"},
            ("POST", "/experiments/create"): {"name": "x"},
            ("POST", "/monitoring/alerts/rules"): {"name": "bad rule name!"},
            ("POST", "/models/<name>/shadow"): {"version": "999999"}}


def _entries(base_settings) -> list[dict]:  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(base_settings.redis_url)
    out = []
    for _id, raw in client.xrange(audit_key(base_settings.key_prefix)):
        out.append({k.decode(): v.decode() for k, v in raw.items()})
    return out


def test_the_audit_table_covers_every_mutating_route():
    assert set(ACTIONS) == MUTATING


@pytest.mark.parametrize(("method", "path"), sorted(MUTATING))
def test_each_mutating_call_leaves_exactly_one_entry_refused_ones_too(api_app, base_settings, method, path):
    before = len(_entries(base_settings))
    # Harmless path values: an experiment, rule and user that do not exist, an unknown version.
    url = _concrete(path).replace("nobody", f"nobody-{uuid.uuid4().hex[:6]}")
    if path.endswith("/promote"):
        url += "?version=999999&target_stage=Staging"
    if path == "/models/compare":
        url += "?model_name=event_classifier&version_a=999998&version_b=999999"
    body = HARMLESS.get((method, path))
    keyed = keyed_client(api_app).open(url, method=method, json=body)
    assert keyed.status_code < 500, keyed.get_data(as_text=True)
    refused = api_app.test_client().open(url, method=method, json=body,
                                         headers={"Authorization": f"Bearer {TEST_API_KEY}-wrong"})
    assert refused.status_code == 401
    new = _entries(base_settings)[before:]
    assert [e["action"] for e in new] == [ACTIONS[(method, path)]] * 2, new
    ok, bad = new
    assert ok["actor"] == key_id(TEST_API_KEY) and ok["status"] == str(keyed.status_code)
    assert ok["outcome"] == ("ok" if keyed.status_code < 400 else keyed.json["error"]["code"])
    assert bad["status"] == "401" and bad["outcome"] == "invalid_api_key"
    assert bad["actor"] == key_id(f"{TEST_API_KEY}-wrong")
    assert all(TEST_API_KEY not in value for entry in new for value in entry.values())
    if path.startswith("/users/"):
        assert "nobody" not in ok["target"] and ok["target"].startswith("user:#")


def test_reads_and_classification_leave_no_entry(api_app, base_settings):
    before = len(_entries(base_settings))
    client = keyed_client(api_app)
    assert client.get("/experiments").status_code == 200
    assert client.get("/audit").status_code == 200
    assert len(_entries(base_settings)) == before


def test_reading_the_audit_needs_a_key_and_filters_by_action_and_time(api_app, base_settings):
    anonymous = api_app.test_client()
    assert anonymous.get("/audit").status_code == 401
    client = keyed_client(api_app)
    name = f"audit_rule_{uuid.uuid4().hex[:6]}"
    created = client.post("/monitoring/alerts/rules", json={"name": name, "metric_name": "accuracy",
                                                            "condition": "<", "threshold": 0.5})
    assert created.status_code == 201
    listing = client.get("/audit?action=alerts.rules.create").json
    assert listing["entries"][-1]["target"] == name and listing["entries"][-1]["outcome"] == "ok"
    assert all(e["action"] == "alerts.rules.create" for e in listing["entries"])
    assert all(e["action"].startswith("alerts.") for e in client.get("/audit?action=alerts").json["entries"])
    since = listing["entries"][-1]["at"]
    later = client.get(f"/audit?since={since + 0.001}&action=alerts.rules.create").json
    assert all(e["at"] > since for e in later["entries"])
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 400 and bad.json["error"]["details"]["field"] == "since"


def test_entries_older_than_the_max_age_are_trimmed(base_settings):
    from geulpi_tasks.privacy.audit import AuditEntry, read_audit, record_audit

    client = redis.Redis.from_url(base_settings.redis_url)
    prefix = f"audit-age-{uuid.uuid4().hex[:6]}"
    # An entry written long ago (stream ids are insertion times in ms), then a new one with a one-hour cap.
    client.xadd(audit_key(prefix), AuditEntry("a", "x.old", "t", "ok", at=1000.0).to_fields(), id="1000000-0")
    record_audit(client, prefix, AuditEntry("a", "x.new", "t", "ok"), max_age_s=3600)
    assert [e["action"] for e in read_audit(client, prefix)] == ["x.new"]


def test_cli_actions_are_recorded_as_the_local_user(base_settings, production_model, capsys):
    before = len(_entries(base_settings))
    assert cli_main(["models", "promote", "999999", "Staging"], settings=base_settings) == 2
    assert cli_main(["models", "list"], settings=base_settings) == 0
    new = _entries(base_settings)[before:]
    assert len(new) == 1, new
    assert new[0]["actor"] == local_actor() and new[0]["source"] == "cli"
    assert new[0]["action"] == "models.promote" and new[0]["outcome"] != "ok"


def test_health_warns_about_an_evicting_redis(api_app, base_settings, inference_worker):
    r = redis.Redis.from_url(base_settings.redis_url)
    client = keyed_client(api_app)
    assert client.get("/health").json["warnings"] == []
    r.config_set("maxmemory-policy", "allkeys-lru")
    try:
        warnings = client.get("/health").json["warnings"]
    finally:
        r.config_set("maxmemory-policy", "noeviction")
    assert len(warnings) == 1 and "allkeys-lru" in warnings[0]
