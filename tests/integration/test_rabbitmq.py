"""The same code over RabbitMQ: ``BROKER_URL=amqp://…`` with Redis kept as result backend.

A real inference worker consumes from RabbitMQ; the API publishes there and reads results from Redis.
Nothing touches a user's RabbitMQ data: each run creates a private vhost (rabbitmqctl) and deletes it after.
Without a broker on 127.0.0.1:5672, or without a usable rabbitmqctl, the module is skipped with the reason.
We do not fall back to the default vhost: queue names could be prefixed, but Celery's control (pidbox) and event
exchanges are per vhost, so a test there would ping, and be seen by, a real deployment's workers.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from typing import Iterator

import pytest

from geulpi_tasks.settings import Settings
from tests.conftest import WorkerProcess, keyed_client
from workers.task_names import QUEUE_INFERENCE, QUEUE_MONITORING, SCAN_DRIFT

AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=60)


def _broker_answers() -> bool:
    try:
        with socket.create_connection((AMQP_HOST, AMQP_PORT), timeout=1.0):
            return True
    except OSError:
        return False


def _unavailable() -> str | None:
    if not _broker_answers():
        return f"RabbitMQ does not answer on {AMQP_HOST}:{AMQP_PORT}; the amqp tests need it running (guest/guest)."
    if shutil.which("rabbitmqctl") is None:
        return ("RabbitMQ answers but rabbitmqctl is not on PATH; a private vhost is needed so the test does not "
                "share queues with a real deployment.")
    return None


# Decided at collection, before the session's shared fixtures (model training) would run for nothing.
_REASON = _unavailable()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


@pytest.fixture(scope="module")
def rabbit_vhost() -> Iterator[str]:
    vhost = f"geulpi-test-{uuid.uuid4().hex[:8]}"
    try:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
        subprocess.run(["rabbitmqctl", "--quiet", "delete_vhost", vhost], capture_output=True, timeout=60)
        detail = getattr(err, "stderr", b"") or b""
        pytest.skip(f"rabbitmqctl could not create a private vhost ({err}; {detail.decode(errors='replace')[:200]})")
    try:
        yield vhost
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="module")
def amqp_settings(base_settings: Settings, rabbit_vhost: str) -> Settings:
    return base_settings.replace(broker_url=f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{rabbit_vhost}")


@pytest.fixture(scope="module")
def amqp_celery(amqp_settings: Settings):  # type: ignore[no-untyped-def]
    from workers.celery_app import create_celery

    celery = create_celery(amqp_settings)
    yield celery
    celery.close()  # its pooled connections, before the vhost goes away


@pytest.fixture(scope="module")
def amqp_worker(amqp_settings, amqp_celery, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    worker = WorkerProcess("workers.inference", amqp_settings, tmp_path_factory.mktemp("logs") / "amqp-inf.log",
                           "--concurrency", "1")
    try:
        worker.wait_ready(amqp_celery)
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def amqp_client(amqp_settings, amqp_celery, amqp_worker):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app(amqp_settings, celery=amqp_celery)
    yield keyed_client(app)
    app.extensions["geulpi"].gateway._confirmed.force_close_all()


def _inference_queue(celery) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(messages, consumers) of the inference queue, read from RabbitMQ itself."""
    with celery.connection_for_write() as conn:
        _name, messages, consumers = conn.default_channel.queue_declare(QUEUE_INFERENCE, passive=True)
    return messages, consumers


def test_health_names_rabbitmq_as_broker(amqp_client, amqp_worker):
    response = amqp_client.get("/health")
    assert response.status_code == 200, response.json
    broker = response.json["checks"]["broker"]
    assert broker == {"transport": "amqp", "ok": True}
    assert response.json["checks"]["result_backend"]["ok"] is True
    assert amqp_worker.name in response.json["checks"]["inference_worker"]["workers"]


def test_classification_single_batch_and_async_over_rabbitmq(amqp_client, amqp_celery, amqp_worker,
                                                              production_model):
    # The worker consumes the vhost's inference queue: RabbitMQ itself reports its consumer.
    assert _inference_queue(amqp_celery)[1] >= 1

    single = amqp_client.post("/v2/classify-event", json={
        "title": "Team standup meeting", "eventId": "amqp-1", "startTime": "2024-01-22T09:00:00",
        "endTime": "2024-01-22T09:30:00"})
    assert single.status_code == 200, single.json
    assert single.json["eventType"] == "WORK" and single.json["modelVersion"] == production_model

    titles = ["Sprint planning", "요가 수업", "생일 파티 🎂", "Pay rent"]
    events = [{"title": t, "eventId": f"b{i}", "startTime": "2024-01-23T10:00:00",
               "endTime": "2024-01-23T11:00:00"} for i, t in enumerate(titles)]
    batch = amqp_client.post("/v2/classify-events", json={"events": events})
    assert batch.status_code == 200, batch.json
    assert [r["eventId"] for r in batch.json["results"]] == ["b0", "b1", "b2", "b3"]
    assert batch.json["results"][0]["eventType"] == "WORK"

    accepted = amqp_client.post("/v2/classify-event?async=true", json={
        "title": "치과 예약 🦷", "startTime": "2024-03-05T18:30:00", "endTime": "2024-03-05T19:00:00"})
    assert accepted.status_code == 202, accepted.json
    deadline = time.monotonic() + 15
    while True:
        status = amqp_client.get(accepted.headers["Location"])
        assert status.status_code == 200, status.json
        if status.json["ready"]:
            break
        assert time.monotonic() < deadline, status.json
        time.sleep(0.05)
    assert status.json["state"] == "SUCCESS" and status.json["result"]["eventType"] == "HEALTH"
    assert _inference_queue(amqp_celery)[0] == 0  # nothing left behind in RabbitMQ
    # The 202 went out on a connection in publisher-confirm mode: RabbitMQ acknowledged it before the answer.
    gateway = amqp_client.application.extensions["geulpi"].gateway
    with gateway._confirmed.acquire(block=True, timeout=2) as connection:
        assert connection.default_channel._confirm_selected is True


def test_unanswered_sync_call_is_504_and_rabbitmq_drops_it_when_it_expires(amqp_settings, amqp_celery,
                                                                          amqp_worker):
    # No monitoring worker consumes this vhost. Celery turns the sync call's expiry into the message's AMQP TTL, so
    # RabbitMQ itself discards the unanswered call; a job submitted without expiry stays queued.
    from api.gateway import TaskGateway
    from geulpi_tasks.errors import Timeout

    gateway = TaskGateway(amqp_celery, key_prefix=amqp_settings.key_prefix)
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        gateway.run(SCAN_DRIFT, [], timeout=0.5)
    assert time.monotonic() - started < 3.0
    assert caught.value.details["taskId"]
    kept = gateway.submit(SCAN_DRIFT, [])
    with amqp_celery.connection_for_write() as conn:
        message = conn.default_channel.basic_get(QUEUE_MONITORING, no_ack=True)
        assert message is not None and message.headers["id"] == kept
        assert message.headers["argsrepr"] == "[]"  # JSON, as Flower shows it
        assert conn.default_channel.basic_get(QUEUE_MONITORING, no_ack=True) is None  # the expired call is gone
    gateway._confirmed.force_close_all()


def test_queue_depth_metric_is_read_from_rabbitmq(amqp_settings, amqp_celery, amqp_client, amqp_worker):
    # Over amqp the Redis lists are empty; the gauge must ask the broker, which holds the waiting job.
    from api.gateway import TaskGateway

    gateway = TaskGateway(amqp_celery, key_prefix=amqp_settings.key_prefix)
    kept = gateway.submit(SCAN_DRIFT, [])
    try:
        text = amqp_client.get("/monitoring/metrics").get_data(as_text=True)
        depth = {line.split('"')[1]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                 if line.startswith("geulpi_queue_depth{")}
        assert depth[QUEUE_MONITORING] == 1.0
        assert depth["inference"] == 0.0
    finally:
        with amqp_celery.connection_for_write() as conn:
            message = conn.default_channel.basic_get(QUEUE_MONITORING, no_ack=True)
            assert message is not None and message.headers["id"] == kept
        gateway._confirmed.force_close_all()
