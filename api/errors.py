"""The one place where errors become HTTP answers: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from geulpi_tasks.errors import (
    REDIS_OUTAGE_ERRORS,
    Conflict,
    Forbidden,
    GeulpiError,
    InvalidInput,
    InvalidValue,
    NotFound,
    RateLimited,
    Timeout,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

# Most specific first.
STATUS_BY_FAMILY: tuple[tuple[type[GeulpiError], int], ...] = (
    (InvalidValue, 422),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (NotFound, 404),
    (Conflict, 409),
    (Timeout, 504),
    (Unavailable, 503),
)


def status_for(err: GeulpiError) -> int:
    return next((status for family, status in STATUS_BY_FAMILY if isinstance(err, family)), 500)


def _body(code: str, message: str, details: dict | None = None):  # type: ignore[type-arg]
    return jsonify({"error": {"code": code, "message": message, "details": details or {}}})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GeulpiError)
    def _domain(err: GeulpiError):  # type: ignore[no-untyped-def]
        status = status_for(err)
        response = _body(err.code, err.message, err.details)
        if status == 503:
            response.headers["Retry-After"] = "5"
        if status == 429:
            response.headers["Retry-After"] = str(err.details.get("retryAfterSeconds", 1))
        if status == 401:
            # RFC 6750: a Bearer challenge; error="invalid_token" only when a key was sent and refused.
            challenge = 'Bearer realm="geulpi"'
            if err.code == "invalid_api_key":
                challenge += ', error="invalid_token"'
            response.headers["WWW-Authenticate"] = challenge
        return response, status

    def _redis_down(err: Exception):  # type: ignore[no-untyped-def]
        # A Redis call that no domain function wrapped: still an outage (503 naming Redis), never a 500.
        log.warning("Redis unreachable: %s", type(err).__name__)
        return _domain(Unavailable(f"Redis is unreachable ({type(err).__name__}); retry shortly.",
                                   details={"dependency": "redis"}))

    for outage in REDIS_OUTAGE_ERRORS:
        app.register_error_handler(outage, _redis_down)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):  # type: ignore[no-untyped-def]
        code = (err.name or "http_error").lower().replace(" ", "_")
        return _body(code, err.description or err.name), err.code or 500

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return _body("internal_error", "An unexpected error occurred; it has been logged."), 500
