"""Sampled task events (workers/task_events.py): the API and the worker agree on the sample without talking."""

from __future__ import annotations

import random
import uuid

from api.gateway import _without_sent_events
from geulpi_tasks.settings import Settings
from workers.celery_app import create_celery
from workers.task_events import sampled


def test_sample_is_a_deterministic_share_of_task_ids():
    rng = random.Random(13)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(20000)]
    assert all(sampled(i, 1.0) for i in ids[:100]) and not any(sampled(i, 0.0) for i in ids[:100])
    share = sum(sampled(i, 0.05) for i in ids) / len(ids)
    assert 0.04 < share < 0.06
    assert [sampled(i, 0.05) for i in ids[:500]] == [sampled(i, 0.05) for i in ids[:500]]
    assert sampled("not-a-uuid", 0.5) == sampled("not-a-uuid", 0.5)
    assert not sampled(None, 0.5)


def test_unsampled_calls_publish_without_the_sent_event_on_the_same_broker():
    celery = create_celery(Settings(redis_url="redis://127.0.0.1:1/0"))
    quiet = _without_sent_events(celery)
    assert celery.conf.task_send_sent_event and not quiet.conf.task_send_sent_event
    assert quiet.conf.broker_url == celery.conf.broker_url and quiet.conf.task_routes == celery.conf.task_routes
