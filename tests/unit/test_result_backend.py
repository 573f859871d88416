"""workers/result_backend.py: one round trip fewer per stored and per awaited result, the same guarantees."""

from __future__ import annotations

import uuid

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout

from geulpi_tasks.settings import Settings
from workers.celery_app import create_celery
from workers.result_backend import FastRedisBackend

# Task names of their own: the project's real tasks are shared with every app once their modules are imported.
EARLY_ACKED = "geulpi.inference.test_early_acked"
LATE_ACKED = "geulpi.training.test_late_acked"


@pytest.fixture()
def celery(redis_server):  # type: ignore[no-untyped-def]
    app = create_celery(Settings(redis_url=redis_server))

    @app.task(name=EARLY_ACKED, shared=False)
    def classify() -> None: ...

    @app.task(name=LATE_ACKED, acks_late=True, shared=False)
    def train() -> None: ...

    return app


def test_the_app_uses_it(celery):  # type: ignore[no-untyped-def]
    assert isinstance(celery.backend, FastRedisBackend)


def test_a_result_stored_before_the_caller_subscribed_is_still_found(celery):  # type: ignore[no-untyped-def]
    task_id = str(uuid.uuid4())
    celery.backend.store_result(task_id, {"ok": 1}, "SUCCESS")  # published to nobody
    assert celery.AsyncResult(task_id).get(timeout=10) == {"ok": 1}
    with pytest.raises(CeleryTimeout):
        celery.AsyncResult(str(uuid.uuid4())).get(timeout=0.8)


def test_only_late_acked_tasks_keep_the_duplicate_check(celery):  # type: ignore[no-untyped-def]
    class Request:
        def __init__(self, task: str):
            self.task, self.id = task, str(uuid.uuid4())

    backend = celery.backend
    assert not backend._may_run_twice(Request(EARLY_ACKED))
    assert backend._may_run_twice(Request(LATE_ACKED)) and backend._may_run_twice(None)
    # A late-acked task's SUCCESS is not overwritten by a redelivered duplicate; an early-acked one is stored as is.
    for name, kept in ((LATE_ACKED, "first"), (EARLY_ACKED, "second")):
        request = Request(name)
        backend.store_result(request.id, "first", "SUCCESS", request=request)
        backend.store_result(request.id, "second", "SUCCESS", request=request)
        assert backend.get_task_meta(request.id)["result"] == kept
