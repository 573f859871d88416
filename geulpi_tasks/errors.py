"""The one exception family of Geulpi Tasks.

Domain code raises the narrowest subclass; ``api/errors.py`` alone maps each family to an HTTP status, and
the Celery tasks turn them into ``{code, message}`` failures. Messages say what happened and what to do.
"""

from __future__ import annotations

from typing import Any

import redis.exceptions

# What a Redis outage looks like from redis-py (and from the sockets under it): the one tuple every layer catches.
REDIS_OUTAGE_ERRORS: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError,
                                                       redis.exceptions.TimeoutError, OSError)


class GeulpiError(Exception):
    """Root of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(GeulpiError):
    """The caller sent something malformed or out of range; ``details['field']`` names it."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None):
        merged = dict(details or {})
        if field is not None:
            merged.setdefault("field", field)
        super().__init__(message, code=code, details=merged)
        self.field = field


class InvalidValue(InvalidInput):
    """Well-formed input whose values do not make sense together (e.g. an event that ends before it starts)."""

    code = "invalid_value"


class NotFound(GeulpiError):
    code = "not_found"


class Conflict(GeulpiError):
    code = "conflict"


class Forbidden(GeulpiError):
    """The caller is known (a valid API key) but may not do this, e.g. approve their own promotion request."""

    code = "forbidden"


class Unavailable(GeulpiError):
    """A dependency (Redis, a worker, the registry) cannot be reached right now; retrying later may work."""

    code = "unavailable"


class Timeout(GeulpiError):
    """Work was accepted but no answer came within the allowed time."""

    code = "timeout"


class ModelNotReady(Unavailable):
    code = "model_not_ready"


class RateLimited(GeulpiError):
    """The caller went over a rate limit; ``details['retryAfterSeconds']`` says when to try again and
    ``details['field']`` what the limit was counted by (``Authorization`` or ``userId``)."""

    code = "rate_limited"


class Unauthorized(GeulpiError):
    """The request lacks a valid API key; ``details['field']`` is ``Authorization``."""

    code = "unauthorized"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message, code=code, details={"field": "Authorization", **(details or {})})


_FAMILIES: dict[str, type[GeulpiError]] = {
    cls.code: cls
    for cls in (GeulpiError, InvalidInput, InvalidValue, NotFound, Conflict, Forbidden, Unavailable, Timeout,
                ModelNotReady, Unauthorized, RateLimited)
}


def error_from_dict(payload: dict[str, Any]) -> GeulpiError:
    """Rebuild a typed error from the ``{code, message, details}`` a task returned across the wire."""
    code = str(payload.get("code", "error"))
    message = str(payload.get("message", "The task failed."))
    details = payload.get("details") or {}
    family = payload.get("family") or code
    cls = _FAMILIES.get(family, GeulpiError)
    if issubclass(cls, InvalidInput):
        return cls(message, field=details.get("field"), code=code, details=details)
    return cls(message, code=code, details=details)


def error_to_wire(err: GeulpiError) -> dict[str, Any]:
    """The JSON a task returns for a domain failure: enough to rebuild the same family on the API side."""
    families = set(_FAMILIES.values())
    family = next((c.code for c in type(err).__mro__ if c in families and issubclass(c, GeulpiError)), "error")
    return {"code": err.code, "message": err.message, "details": err.details, "family": family}


class RemoteError(Exception):
    """Carries a domain error across the Celery wire as JSON: ``args[0]`` is ``error_to_wire(err)``.

    Celery rebuilds exceptions from (module, name, args); this class takes exactly one JSON-able argument so the
    API side gets the same ``{code, message, details}`` back and maps it with ``error_from_dict``.
    """

    def __init__(self, wire: dict[str, Any]):
        super().__init__(wire)
        self.wire = wire if isinstance(wire, dict) else {"code": "error", "message": str(wire)}
