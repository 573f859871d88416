"""The yardstick of bench/bench_serving.py: a bare Celery app with Celery's default configuration (only broker and
result backend set), one no-op task. Its worker is started as ``celery -A bench.bare_celery worker -c 2`` on the
same Redis server as the stack (another database, so the two never share a queue or an event channel)."""

from __future__ import annotations

import os

from celery import Celery

URL = os.environ.get("BARE_CELERY_URL", "redis://127.0.0.1:6379/1")

app = Celery("bare", broker=URL, backend=URL)


@app.task(name="bare.noop")
def noop() -> str:
    return "pong"
