"""Feedback that disagrees with confident answers, per class: recorded with each correction, read by the dashboard
and the metrics scrape."""

from __future__ import annotations

import time
import uuid

import redis

from geulpi_tasks.feedback import remember_classified, save_feedback
from geulpi_tasks.monitoring.accuracy import confident_disagreement, record_feedback_outcome

EVENT = {"title": "KTX 부산", "startTime": "2025-05-01T08:00:00", "endTime": "2025-05-01T11:00:00"}


def test_confident_corrections_are_counted_per_answered_class(redis_server: str):
    client = redis.Redis.from_url(redis_server)
    prefix = f"cc-{uuid.uuid4().hex[:6]}"
    now = time.time()
    outcomes = [("HEALTH", 0.97, False), ("HEALTH", 0.96, False), ("HEALTH", 0.99, True), ("WORK", 0.95, True),
                ("WORK", 0.60, False),  # not confident: never counted
                ("OTHER", None, False)]  # confidence unknown (an older record): never counted
    for predicted, confidence, correct in outcomes:
        record_feedback_outcome(client, prefix, "event_classifier", "3", correct, predicted=predicted,
                                confidence=confidence, ts=now)
    per_class = confident_disagreement(client, prefix, "event_classifier", since=now - 60)
    assert per_class == {"HEALTH": {"scored": 3, "corrected": 2, "share": 2 / 3},
                         "WORK": {"scored": 1, "corrected": 0, "share": 0.0}}
    assert confident_disagreement(client, prefix, "event_classifier", since=now + 1) == {}


def test_a_correction_of_a_served_answer_carries_its_class_and_confidence(redis_server: str):
    client = redis.Redis.from_url(redis_server)
    prefix = f"cc-{uuid.uuid4().hex[:6]}"
    request_id = uuid.uuid4().hex
    answer = {"eventType": "HEALTH", "priority": "MEDIUM", "confidence": 0.96, "modelName": "event_classifier",
              "modelVersion": "3"}
    remember_classified(client, prefix, [(EVENT, answer, request_id)], ttl_s=600, group_id=request_id)
    saved = save_feedback(client, prefix, {"requestId": request_id, "category": "OTHER"},
                          default_model_name="event_classifier", cache_ttl_s=600)
    assert saved["scored"] is True
    per_class = confident_disagreement(client, prefix, "event_classifier", since=time.time() - 60)
    assert per_class == {"HEALTH": {"scored": 1, "corrected": 1, "share": 1.0}}
