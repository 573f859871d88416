"""Celery options per broker: Redis-only transport options never reach RabbitMQ, and each queue has its own
exchange and routing key."""

import pytest

import celeryconfig
from geulpi_tasks.settings import Settings
from workers.task_names import QUEUES


@pytest.mark.parametrize("url, amqp", [
    ("amqp://guest:guest@127.0.0.1:5672//", True), ("amqps://u:p@mq:5671/v", True), ("pyamqp://mq//", True),
    ("redis://127.0.0.1:6379/0", False), ("rediss://:pw@r:6380/0", False),
])
def test_transport_options_follow_the_broker(url, amqp):
    options = celeryconfig.build(Settings(broker_url=url))["broker_transport_options"]
    if amqp:
        assert options == {}  # no Redis-only keys
    else:
        assert options["visibility_timeout"] > Settings().max_training_job_s


def test_every_queue_has_its_own_exchange_and_routing_key():
    queues = celeryconfig.build(Settings())["task_queues"]
    assert [(q.name, q.exchange.name, q.exchange.type, q.routing_key) for q in queues] == [
        (name, name, "direct", name) for name in QUEUES]
