"""Feedback on an answer served during an A/B experiment counts toward that variant's accuracy (real Redis)."""

import redis

from geulpi_tasks.experiments.store import experiment_key
from geulpi_tasks.feedback import remember_classified, save_feedback

EVENT = {"title": "Dentist", "startTime": "2024-01-24T15:00:00", "endTime": "2024-01-24T16:00:00"}


def test_feedback_scores_the_variant_that_served_the_answer(redis_server):
    client = redis.Redis.from_url(redis_server.rsplit("/", 1)[0] + "/5")
    client.flushdb()
    prefix = "geulpi-fb-test"
    served = {"eventType": "HEALTH", "priority": "MEDIUM", "modelName": "event_classifier", "modelVersion": "2",
              "experimentId": "exp-1", "variant": "treatment"}
    remember_classified(client, prefix, [(EVENT, served, "req-1"), (EVENT, {**served, "eventType": "WORK"}, "req-2")],
                        ttl_s=60, group_id="task-1")
    save_feedback(client, prefix, {"requestId": "req-1", "category": "HEALTH"}, default_model_name="event_classifier",
                  cache_ttl_s=60)
    save_feedback(client, prefix, {"requestId": "req-2", "category": "HEALTH"}, default_model_name="event_classifier",
                  cache_ttl_s=60)
    counts = client.hgetall(experiment_key(prefix, "counts", "exp-1", "treatment"))
    assert counts == {b"feedback": b"2", b"correct": b"1"}
    client.flushdb()
