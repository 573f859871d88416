"""Rate limits (flask-limiter, counted in Redis): each limited area is counted per API key and per userId.

- per API key: the SHA-256 of the Bearer key; a caller without one is counted by its address (behind a proxy,
  the proxy's: put the limits there, or have clients send keys);
- per userId: the body's ``userId`` (a feedback's ``event.userId``; a batch's when all its events name the same
  one); a request that names no user is counted by key only.

Areas and limits come from Settings (off unless ``GEULPI_RATE_LIMITS=true``). A breach raises ``RateLimited``, which
api/errors.py answers as 429 with Retry-After. A check that cannot reach Redis is an outage (503), like any other.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, Callable

from flask import Blueprint, Flask, request
from flask_limiter import Limiter, RequestLimit
from limits import parse_many

from geulpi_tasks.errors import RateLimited
from geulpi_tasks.settings import Settings

# The blueprints (areas) whose calls count against GEULPI_RATE_LIMIT_*; /openapi.json documents 429 on them.
LIMITED_BLUEPRINTS = frozenset({"classify", "analyses", "feedback", "training"})


def caller_key() -> str:
    """Who is calling: the API key's digest, else the client address."""
    scheme, _, presented = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and presented.strip():
        return "key:" + hashlib.sha256(presented.strip().encode("utf-8")).hexdigest()[:32]
    return f"addr:{request.remote_addr or 'unknown'}"


def user_of(body: Any) -> str | None:
    """The userId a request is made for, or None when it names none (or several)."""
    if not isinstance(body, dict):
        return None
    for holder in (body, body.get("event")):
        if isinstance(holder, dict) and isinstance(holder.get("userId"), (str, int)) and str(holder["userId"]).strip():
            return str(holder["userId"]).strip()
    events = body.get("events")
    if isinstance(events, list):
        users = {str(e["userId"]).strip() for e in events
                 if isinstance(e, dict) and isinstance(e.get("userId"), (str, int)) and str(e["userId"]).strip()}
        if len(users) == 1 and all(isinstance(e, dict) and e.get("userId") is not None for e in events):
            return users.pop()
    return None


def _request_user() -> str | None:
    return user_of(request.get_json(force=True, silent=True, cache=True))  # as json_body: any Content-Type


def user_key() -> str:
    return "user:" + hashlib.sha256((_request_user() or "").encode("utf-8")).hexdigest()[:32]


def _breach(area: str, field: str) -> Callable[[RequestLimit], None]:
    def raise_limited(limit: RequestLimit) -> None:
        retry_after = max(1, math.ceil(limit.window[0] - time.time()))  # window[0]: when the window resets
        per = "API key" if field == "Authorization" else "userId"
        raise RateLimited(f"Too many {area} requests for this {per} (limit {limit.limit}); retry in {retry_after} s.",
                          details={"field": field, "area": area, "limit": str(limit.limit),
                                   "retryAfterSeconds": retry_after})
    return raise_limited


def area_limits(settings: Settings) -> dict[str, str]:
    """Blueprint name -> its limit string; ValueError naming the variable when one does not parse."""
    limits = {"classify": ("GEULPI_RATE_LIMIT_CLASSIFY", settings.rate_limit_classify),
              "analyses": ("GEULPI_RATE_LIMIT_ANALYSES", settings.rate_limit_analyses),
              "feedback": ("GEULPI_RATE_LIMIT_FEEDBACK", settings.rate_limit_feedback),
              "training": ("GEULPI_RATE_LIMIT_TRAINING", settings.rate_limit_training)}
    for var, value in limits.values():
        try:
            parse_many(value)
        except ValueError as err:
            raise ValueError(f"{var}={value!r} is not a rate limit such as '100/minute': {err}") from err
    return {area: value for area, (_var, value) in limits.items()}


def register_limits(app: Flask, settings: Settings, blueprints: dict[str, Blueprint]) -> Limiter | None:
    """Count the limited areas' requests (after the API-key check); None when limits are off."""
    limits = area_limits(settings)
    if not settings.rate_limits:
        return None
    options: dict[str, str | int] = {}
    if settings.disable_redis:  # limited mode: one process, so its own memory is the whole count
        storage = "memory://"
    else:
        storage = settings.redis_url
        options = {"key_prefix": f"{settings.key_prefix}:ratelimit", "socket_timeout": 5, "socket_connect_timeout": 2}
    limiter = Limiter(caller_key, storage_uri=storage, storage_options=options, strategy="fixed-window",
                      headers_enabled=False)
    for area, limit in limits.items():
        blueprint = blueprints[area]
        limiter.shared_limit(limit, scope=f"{area}:caller", key_func=caller_key,
                             on_breach=_breach(area, "Authorization"))(blueprint)
        limiter.shared_limit(limit, scope=f"{area}:user", key_func=user_key,
                             exempt_when=lambda: _request_user() is None, on_breach=_breach(area, "userId"))(blueprint)
    limiter.init_app(app)
    return limiter
