"""Infrastructure faults: no worker → 504 with the task id; Redis down → 503 naming the part; recovery by itself."""

import time

import pytest

from api import create_app
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from tests.conftest import WorkerProcess
from workers.celery_app import create_celery


def test_no_worker_consuming_answers_504(base_settings):
    # Database 1 of the test server: same Redis, but no worker listens on its queues.
    settings = base_settings.replace(redis_url=base_settings.redis_url.rsplit("/", 1)[0] + "/1", sync_timeout_s=1.0)
    app = create_app(settings)
    client = app.test_client()
    started = time.monotonic()
    response = client.post("/v2/classify-event", json={
        "title": "standup", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"})
    assert response.status_code == 504
    assert time.monotonic() - started < 5
    error = response.json["error"]
    assert error["code"] == "timeout" and error["details"]["taskId"]
    status = client.get(f"/tasks/{error['details']['taskId']}")
    assert status.status_code == 200 and status.json["state"] == "PENDING"
    # The next call does not wait again: 503 at once, naming the missing part, with Retry-After.
    started = time.monotonic()
    again = client.post("/v2/classify-event", json={
        "title": "standup", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"})
    assert again.status_code == 503 and time.monotonic() - started < 0.5
    assert again.json["error"]["details"]["dependency"] == "inference_worker" and again.headers["Retry-After"]
    app.extensions["geulpi"].celery.close()


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_health_is_503_while_redis_is_down_and_recovers(base_settings, production_model, tmp_path):
    port = free_port()
    redis_dir = tmp_path / "redis"
    redis_proc = start_redis_server(port, redis_dir)
    settings = base_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", health_ping_timeout_s=1.0)
    celery = create_celery(settings)
    worker = WorkerProcess("workers.inference", settings, tmp_path / "worker.log", "--concurrency", "1")
    try:
        worker.wait_ready(celery)
        client = create_app(settings, celery=celery).test_client()
        assert _wait_for(lambda: client.get("/health").status_code == 200, 20)

        stop_redis_server(redis_proc)
        down = client.get("/health")
        assert down.status_code == 503
        assert down.json["checks"]["broker"]["ok"] is False
        assert down.json["checks"]["result_backend"]["ok"] is False
        assert down.json["checks"]["registry"]["ok"] is True
        classify = client.post("/v2/classify-event", json={
            "title": "standup", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"})
        assert classify.status_code == 503
        assert classify.json["error"]["code"] == "unavailable"

        redis_proc = start_redis_server(port, redis_dir)
        assert _wait_for(lambda: client.get("/health").status_code == 200, 40), client.get("/health").json
        again = client.post("/v2/classify-event", json={
            "title": "standup", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"})
        assert again.status_code == 200, again.json
    finally:
        worker.stop()
        stop_redis_server(redis_proc)
        celery.close()


def test_a_timeout_while_a_worker_lives_keeps_the_breaker_closed(base_settings, production_model, inference_worker,
                                                                 celery_client):
    # A lost message or a backlog also times out; the breaker opens only when no worker of the queue answers a ping.
    from api.gateway import TaskGateway
    from geulpi_tasks.errors import Timeout
    from workers.task_names import CLASSIFY_EVENT

    gateway = TaskGateway(celery_client, key_prefix=base_settings.key_prefix, breaker_cooldown_s=30)
    event = {"title": "standup", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"}
    assert gateway.queue_has_worker("inference") and not gateway.queue_has_worker("nosuchqueue")
    with pytest.raises(Timeout):
        gateway.run(CLASSIFY_EVENT, [event], timeout=0.0005)  # too short for any worker
    assert not gateway.breaker.is_open("inference")
    assert gateway.run(CLASSIFY_EVENT, [event], timeout=10)["eventType"]
