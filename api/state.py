"""What one API app holds for its handlers: ``app.extensions["geulpi"]``, typed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from celery import Celery
from flask import Flask, current_app
from flask_limiter import Limiter

from api.auth import AuthPolicy
from api.coalescer import Coalescer
from api.gateway import TaskGateway
from geulpi_tasks.errors import Unavailable
from geulpi_tasks.settings import Settings

EXTENSION = "geulpi"


@dataclass
class ApiState:
    settings: Settings
    celery: Celery
    gateway: TaskGateway
    coalescer: Coalescer | None = None
    auth: AuthPolicy | None = None
    limiter: Limiter | None = None
    _redis: redis.Redis | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def redis(self, needed_for: str) -> redis.Redis:
        """The app's one Redis client for domain state (feedback, experiments, monitoring), made on first use.

        Raises Unavailable in limited mode (DISABLE_REDIS), naming what needed Redis.
        """
        if self.settings.disable_redis:
            raise Unavailable(f"{needed_for} needs Redis, which is off in limited mode (DISABLE_REDIS).",
                              details={"dependency": "redis"})
        with self._lock:
            if self._redis is None:
                self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=5.0,
                                                   socket_connect_timeout=2.0)
            return self._redis


def init_state(app: Flask, state: ApiState) -> None:
    app.extensions[EXTENSION] = state


def api_state(app: Any = None) -> ApiState:
    """The ApiState of ``app`` (default: the app handling the current request)."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]
