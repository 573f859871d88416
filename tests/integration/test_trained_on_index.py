"""Erasure can list the versions trained on a user's feedback: the training job records them, and so does an
attempt that resumes a version an earlier (dead) attempt registered."""

from __future__ import annotations

import uuid

import redis

from geulpi_tasks.feedback import parse_feedback, save_feedback
from geulpi_tasks.privacy.keys import user_versions_key
from geulpi_tasks.training.job import run_training_job
from geulpi_tasks.training.keys import job_key

REQUEST = {"model_type": "event_classifier", "optimize": False, "n_samples": 600, "include_realistic": False}


def test_versions_trained_on_a_users_feedback_are_recorded_even_by_a_resumed_attempt(base_settings, tmp_path):
    client = redis.Redis.from_url(base_settings.redis_url)
    prefix = f"trained-on-{uuid.uuid4().hex[:6]}"
    users = [f"user-{i}" for i in range(3)]
    for i in range(30):
        event = {"title": f"KTX to Busan {i}", "startTime": "2025-05-01T08:00:00", "endTime": "2025-05-01T11:00:00",
                 "userId": users[i % 3], "eventId": f"trip-{i}"}
        save_feedback(client, prefix, parse_feedback({"eventId": f"trip-{i}", "category": "OTHER", "event": event}),
                      default_model_name="event_classifier", cache_ttl_s=60)
    job_id = uuid.uuid4().hex
    kwargs = {"job_id": job_id, "tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
              "artifact_root": tmp_path / "artifacts", "redis_url": base_settings.redis_url, "key_prefix": prefix,
              "progress": lambda _m: None, "seed": 3}
    first = run_training_job(REQUEST, **kwargs)
    version = f"event_classifier/{first['version']}"
    assert all(client.sismember(user_versions_key(prefix, u), version) for u in users)

    # The attempt died right after registering: no stored result, no index. The next attempt resumes the version.
    client.hdel(job_key(prefix, job_id), "result")
    for user in users:
        client.delete(user_versions_key(prefix, user))
    resumed = run_training_job(REQUEST, **kwargs)
    assert resumed["version"] == first["version"] and "resumed" in resumed
    assert all(client.sismember(user_versions_key(prefix, u), version) for u in users)
    assert not client.exists(user_versions_key(prefix, "someone-else"))
