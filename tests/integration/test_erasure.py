"""Erasure on the real stack (Redis, inference worker, registry): two users' data in every store, one erased, and
direct reads of every Redis key prove nothing of the first is left and nothing of the second is lost."""

from __future__ import annotations

import uuid
from typing import Any

import redis

from geulpi_tasks.experiments.store import Experiment, Variant, create_experiment, read_counts, record_exposure
from geulpi_tasks.feedback import feedback_key, list_feedback
from geulpi_tasks.privacy.erasure import celery_result_key, erased_before, record_trained_on
from geulpi_tasks.privacy.keys import user_digest, user_tasks_key
from geulpi_tasks.shadow.store import ShadowScore, record_scores, shadow_key
from tests.conftest import keyed_client, wait_task


def _all_values(client: redis.Redis) -> dict[str, str]:
    """Every key of the database and its whole content as text (strings, hashes, lists, sets, streams)."""
    out = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = client.xrange(key)
        else:
            value = kind
        out[key.decode()] = repr(value) + key.decode()
    return out


def _user_data(client, user: str, tag: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Classify (sync, async and batch), analyse and correct for one user; returns the ids that name the data."""
    def event(i: int) -> dict[str, Any]:
        return {"title": f"therapy session {tag} {i}", "description": f"notes {tag}", "location": f"clinic {tag}",
                "startTime": "2024-01-22T10:00:00", "endTime": "2024-01-22T11:00:00", "userId": user,
                "eventId": f"{tag}-ev{i}"}

    sync = client.post("/v2/classify-event", json=event(0))
    assert sync.status_code == 200, sync.json
    accepted = client.post("/v2/classify-event?async=true", json=event(1))
    assert accepted.status_code == 202
    polled = wait_task(client, accepted.headers["Location"])
    assert polled["state"] == "SUCCESS"
    batch = client.post("/v2/classify-events", json={"events": [event(2), event(3)]})
    assert batch.status_code == 200, batch.json
    analysis = client.post("/detect-patterns?async=true", json={"userId": user, "events": [
        {**event(4), "category": "HEALTH"}, {**event(5), "category": "HEALTH"}]})
    assert analysis.status_code == 202
    assert wait_task(client, analysis.headers["Location"])["state"] == "SUCCESS"
    by_id = client.post("/feedback", json={"eventId": f"{tag}-ev0", "category": "HEALTH", "priority": "HIGH"})
    by_request = client.post("/feedback", json={"requestId": batch.json["results"][1]["requestId"],
                                                "category": "HEALTH"})
    sent = client.post("/feedback", json={"eventId": f"{tag}-ev9", "category": "PERSONAL", "event": event(9)})
    assert (by_id.status_code, by_request.status_code, sent.status_code) == (201, 201, 201), by_id.json
    return {"tasks": [sync.json["requestId"], polled["taskId"], batch.json["results"][0]["requestId"].split(":")[0],
                      analysis.json["taskId"]]}


def test_erasing_one_user_removes_all_of_theirs_and_nothing_of_the_others(api_app, base_settings, inference_worker):
    client = keyed_client(api_app)
    r = redis.Redis.from_url(base_settings.redis_url)
    prefix = base_settings.key_prefix
    tag_a, tag_b = f"A{uuid.uuid4().hex[:8]}", f"B{uuid.uuid4().hex[:8]}"
    user_a, user_b = f"user-{tag_a}", f"user-{tag_b}"
    ids_a, ids_b = _user_data(client, user_a, tag_a), _user_data(client, user_b, tag_b)
    # A/B: both users served by a running experiment (counts are per variant, never per user).
    neutral = uuid.uuid4().hex[:8]
    experiment = Experiment(f"exp-{neutral}", "erasure", "", f"model-{neutral}",
                            [Variant("a", "1", 50.0), Variant("b", "1", 50.0)], 1.0, {}, 0.0)
    create_experiment(r, prefix, experiment)
    for _ in range(3):
        record_exposure(r, prefix, experiment.experiment_id, "a", success=True, latency_ms=1.0, latency_samples=10)
    counts_before = read_counts(r, prefix, experiment)
    # A version trained on both users' feedback (what the training job records after registration).
    record_trained_on(r, prefix, [user_a, user_b], "event_classifier", "7")
    # A shadow deployment scored both users' events (what the inference worker writes after answering).
    record_scores(r, prefix, f"shadow-{neutral}", [
        ShadowScore(f"{tag}-req{i}", user, "WORK", 0.9, "PERSONAL", 0.6, 1.0, 2.0)
        for tag, user in ((tag_a, user_a), (tag_b, user_b)) for i in range(2)], record_ttl_s=600)

    before = _all_values(r)
    assert any(tag_a in v for v in before.values()) and any(tag_b in v for v in before.values())
    # Keys holding only B's data must come out byte for byte the same; shared ones (the feedback rows hash) are
    # checked record by record below.
    b_before = {k: v for k, v in before.items() if tag_b in v and tag_a not in v}
    b_rows_before = [rec for rec in list_feedback(r, prefix) if rec["event"].get("userId") == user_b]
    for task_id in ids_a["tasks"] + ids_b["tasks"]:
        assert r.exists(celery_result_key(task_id)), task_id

    anonymous = api_app.test_client().delete(f"/users/{user_a}/data")
    assert anonymous.status_code == 401
    answer = client.delete(f"/users/{user_a}/data")
    assert answer.status_code == 200, answer.json
    removed = answer.json["removed"]
    assert removed["feedbackRows"] == 3 and removed["feedbackCache"] == 4 and removed["taskResults"] == 4
    assert removed["shadowRecords"] == 2
    assert answer.json["modelVersionsTrainedOnUser"] == [{"model": "event_classifier", "version": "7"}]

    after = _all_values(r)
    # Nothing of user A anywhere in Redis: not the id, not a word of the text.
    assert [k for k, v in after.items() if tag_a in v and not k.startswith(f"{prefix}:audit")] == []
    assert tag_a not in repr([v for k, v in after.items() if k.startswith(f"{prefix}:audit")])
    for task_id in ids_a["tasks"]:
        assert not r.exists(celery_result_key(task_id))
    assert not r.exists(user_tasks_key(prefix, user_a))
    # Everything of user B is still there, unchanged.
    assert {k: after.get(k) for k in b_before} == b_before
    assert [rec for rec in list_feedback(r, prefix) if rec["event"].get("userId") == user_b] == b_rows_before
    assert len(b_rows_before) == 3
    for task_id in ids_b["tasks"]:
        assert r.exists(celery_result_key(task_id))
    assert r.exists(shadow_key(prefix, "event", f"{tag_b}-req0"))
    assert not r.exists(shadow_key(prefix, "by_user", user_a))
    # Experiment statistics unchanged; the tombstone holds only a digest.
    assert read_counts(r, prefix, experiment) == counts_before
    assert r.hexists(f"{prefix}:privacy:erased", user_digest(user_a))
    # Training from now on: a restored copy of A's old feedback is skipped, B's is kept.
    old = {"event": {"userId": user_a}, "receivedAt": 1.0}
    keep = erased_before(r, prefix)
    assert not keep(old) and keep({"event": {"userId": user_b}, "receivedAt": 1.0})
    # Erasing again finds nothing more.
    again = client.delete(f"/users/{user_a}/data").json["removed"]
    assert again["feedbackRows"] == again["feedbackCache"] == again["taskResults"] == again["shadowRecords"] == 0
    assert not r.exists(feedback_key(prefix, "by_user", user_a))
