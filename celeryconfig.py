"""Celery configuration for every Geulpi process, derived from one ``Settings`` object: ``build(settings)``."""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

from geulpi_tasks.redis_urls import redis_ssl_options
from geulpi_tasks.settings import Settings
from workers.task_names import QUEUE_INFERENCE, QUEUES, ROUTES


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0].split("+", 1)[0] in {"amqp", "amqps", "pyamqp", "librabbitmq"}


def _broker_transport_options(broker_url: str, visibility_timeout: int) -> dict[str, Any]:
    """Per-transport options: kombu's amqp transport would silently swallow Redis-only keys."""
    if is_amqp(broker_url):
        # RabbitMQ has no visibility timeout: an unacknowledged (late-ack) job comes back as soon as its worker's
        # connection drops. Its consumer_timeout (30 min by default) must exceed the longest training job; it is a
        # server setting (rabbitmq.conf), see the README. Publisher confirms are used by the API for accepted jobs
        # only (api/gateway.py), not here, where they would slow every worker event too.
        return {}
    # A job abandoned by a dead worker is restored by a sweep every unacked_restore_interval (10 s) x throttle;
    # kombu's default throttle of 10 would add up to 100 s to the visibility timeout. One ZRANGE per 10 s is cheap.
    return {"visibility_timeout": visibility_timeout, "socket_connect_timeout": 2, "socket_timeout": 5,
            "retry_on_timeout": True, "health_check_interval": 10, "unacked_restore_throttle": 1}


def build(settings: Settings) -> dict[str, Any]:
    # Redelivery of an unacknowledged (late-ack) training job happens only after this long, so it must exceed the
    # longest job or a healthy job would run twice.
    # The margin shrinks with short job limits so a test (or a deployment of quick jobs) can redeliver fast.
    visibility_timeout = settings.max_training_job_s + min(3600, settings.max_training_job_s)
    return {
        **_tls(settings),
        "broker_url": settings.effective_broker_url,
        "result_backend": settings.redis_url,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # Each queue bound to its own direct exchange: a bare Queue(name) would bind every queue to the default
        # queue's exchange and key ("inference"), which RabbitMQ shows, and obeys, as real bindings.
        "task_queues": [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
        "task_default_queue": QUEUE_INFERENCE,
        "task_routes": ROUTES,
        # A STARTED write per task costs every millisecond-long prediction a Redis round trip; long jobs
        # (training) turn it on per task.
        "task_track_started": False,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        # The stored result is what /tasks/<id> and a waiting API call read: state and value only. Extended results
        # would repeat every task's arguments (a whole batch of events) in each result written and published.
        "result_extended": False,
        # Results of polled jobs (training, compare) and unread results; the API shortens a classification's once
        # it has read it (GEULPI_CLASSIFY_RESULT_TTL).
        "result_expires": settings.job_result_ttl_s,
        "worker_prefetch_multiplier": 1,
        "worker_max_tasks_per_child": None,
        # Children load the model at start; give them time before the parent declares them dead.
        "worker_proc_alive_timeout": 120.0,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2.0,
        "broker_transport_options": _broker_transport_options(settings.effective_broker_url, visibility_timeout),
        "result_backend_transport_options": {"socket_connect_timeout": 2, "retry_policy": {"timeout": 2.0}},
        "redis_socket_connect_timeout": 2,
        "redis_socket_timeout": 5,
        "redis_backend_health_check_interval": 10,
        # Fail fast when the broker is down so the API can answer 503 instead of hanging.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                      "interval_max": 0.5},
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
    }


def _tls(settings: Settings) -> dict[str, Any]:
    """TLS options for rediss:// broker and backend URLs (read from the URLs' query strings)."""
    options: dict[str, Any] = {}
    broker_ssl = redis_ssl_options(settings.effective_broker_url)
    if broker_ssl is not None:
        options["broker_use_ssl"] = broker_ssl
    backend_ssl = redis_ssl_options(settings.redis_url)
    if backend_ssl is not None:
        options["redis_backend_use_ssl"] = backend_ssl
    return options

