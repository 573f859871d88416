"""``Idempotency-Key`` on the POSTs a client may retry (training, experiment creation, feedback): a view decorated
with ``idempotent(scope)`` runs once per key and request; a retry gets the first answer back with
``Idempotent-Replayed: true``. Keys are per caller (API key), so two callers never see each other's answers.
The store and its rules are geulpi_tasks/idempotency.py.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, Callable

from flask import make_response, request

from api.http import redis_client, settings
from geulpi_tasks.idempotency import HEADER, IdempotencyStore, StoredResponse, check_key, fingerprint

REPLAYED_HEADER = "Idempotent-Replayed"
# Marks a view as idempotent; /openapi.json documents the header on such views (api/openapi.py).
_ATTRIBUTE = "geulpi_idempotency_scope"
# Headers of the first answer that a replay repeats.
KEPT_HEADERS = ("Location",)


def _owner() -> str:
    scheme, _, presented = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and presented.strip():
        return hashlib.sha256(presented.strip().encode("utf-8")).hexdigest()[:32]
    return "anonymous"


def idempotent(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            raw = request.headers.get(HEADER)
            if raw is None:
                return view(*args, **kwargs)
            key = check_key(raw)

            def work() -> StoredResponse:
                response = make_response(view(*args, **kwargs))
                kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
                return StoredResponse(status=response.status_code, body=response.get_json(silent=True), headers=kept)

            store = IdempotencyStore(redis_client(f"{HEADER} (send the request without it)"), settings().key_prefix,
                                     settings().idempotency_ttl_s)
            request_fingerprint = fingerprint(request.method, request.path, request.query_string.decode("latin-1"),
                                              request.get_data(cache=True))
            answer, replayed = store.run_once(scope, _owner(), key, request_fingerprint, work)
            headers = {**answer.headers, **({REPLAYED_HEADER: "true"} if replayed else {})}
            return answer.body, answer.status, headers
        setattr(wrapper, _ATTRIBUTE, scope)
        return wrapper
    return decorate


def is_idempotent(view: Callable[..., Any]) -> bool:
    """True when ``view`` (or what it wraps with functools.wraps) is decorated with ``idempotent``."""
    return getattr(view, _ATTRIBUTE, None) is not None
