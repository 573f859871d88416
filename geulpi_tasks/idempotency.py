"""Idempotency keys: the first answer to a key is kept, and a retry with the same key and request gets it back
instead of doing the work twice (a second training job, a second experiment, a second feedback row).

One Redis key per (scope, owner, Idempotency-Key) under ``<prefix>:idempotency:``. A request first reserves its key
with ``SET NX`` (so of two concurrent retries exactly one runs); the work's successful answer then replaces the
reservation and is kept ``ttl_s`` from the first request. A failed attempt (any error answer) frees the key, so the
caller may retry with it. Thread and process safe: every decision is one atomic Redis command or script.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl

import redis

from geulpi_tasks.errors import Conflict, InvalidInput, InvalidValue

HEADER = "Idempotency-Key"
# Printable ASCII without surrounding spaces, 1 to 255 characters (a UUID fits; so does a client's own scheme).
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
# A reservation whose request never finished (the API process died) frees itself after this long (seconds); the
# three idempotent endpoints only validate and enqueue or store, well within it.
PENDING_TTL_S = 60

# Delete the key only while it still holds exactly this reservation (never a finished answer or another's claim).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@dataclass(frozen=True)
class StoredResponse:
    """An answer as it is kept and replayed: status, JSON body and the headers worth repeating (Location)."""

    status: int
    body: Any
    headers: dict[str, str]


def check_key(raw: str | None) -> str:
    """The Idempotency-Key header's value; InvalidInput (400, field Idempotency-Key) unless it is 1-255 printable
    ASCII characters without surrounding spaces."""
    if raw is None or not re.fullmatch(KEY_PATTERN, raw):
        raise InvalidInput(f"'{HEADER}' must be 1 to 255 printable ASCII characters (e.g. a UUID).", field=HEADER)
    return raw


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query parameters and body. A JSON body is compared by
    content, so key order and whitespace do not matter."""
    try:
        canonical_body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:  # not JSON (or not UTF-8): the bytes themselves
        canonical_body = body.hex()
    canonical = json.dumps([method.upper(), path, sorted(parse_qsl(query, keep_blank_values=True)), canonical_body])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class IdempotencyStore:
    """Kept answers per idempotency key, in Redis. ``ttl_s``: how long an answer is replayed after the first request."""

    def __init__(self, client: redis.Redis, key_prefix: str, ttl_s: float):
        self.redis = client
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s

    def _redis_key(self, scope: str, owner: str, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return f"{self.key_prefix}:idempotency:{scope}:{owner}:{digest}"

    def run_once(self, scope: str, owner: str, key: str, request_fingerprint: str,
                 work: Callable[[], StoredResponse]) -> tuple[StoredResponse, bool]:
        """The answer for ``key``: ``work()``'s, run now, or the one kept from the first request with this key.
        Returns (answer, replayed).

        Raises InvalidValue (422, field Idempotency-Key) when the key was first used for a different request,
        Conflict (409) while the first request with this key is still running, and whatever ``work`` raises (the
        key is freed first). An answer outside 2xx is returned but not kept.
        """
        redis_key = self._redis_key(scope, owner, key)
        reservation = json.dumps({"state": "pending", "fingerprint": request_fingerprint, "createdAt": time.time(),
                                  "nonce": uuid.uuid4().hex})
        if not self.redis.set(redis_key, reservation, nx=True, ex=PENDING_TTL_S):
            return self._kept(redis_key, request_fingerprint), True
        try:
            answer = work()
        except BaseException:
            self.redis.eval(_RELEASE, 1, redis_key, reservation)
            raise
        if 200 <= answer.status < 300:
            created = json.loads(reservation)["createdAt"]
            kept = {"state": "done", "fingerprint": request_fingerprint, "createdAt": created,
                    "status": answer.status, "body": answer.body, "headers": answer.headers}
            remaining = max(1, int(self.ttl_s - (time.time() - created)))
            self.redis.set(redis_key, json.dumps(kept, ensure_ascii=False), ex=remaining)
        else:
            self.redis.eval(_RELEASE, 1, redis_key, reservation)
        return answer, False

    def _kept(self, redis_key: str, request_fingerprint: str) -> StoredResponse:
        raw = self.redis.get(redis_key)
        if raw is None:  # the first request's reservation was freed (it failed) a moment ago: retry is safe
            raise Conflict(f"The request first sent with this {HEADER} has just failed; send it again.",
                           code="idempotency_key_in_use", details={"field": HEADER})
        record = json.loads(raw)
        if record["fingerprint"] != request_fingerprint:
            raise InvalidValue(f"This {HEADER} was already used for a different request; use a new key for a new "
                               "request.", field=HEADER, code="idempotency_key_reused")
        if record["state"] != "done":
            raise Conflict(f"The first request with this {HEADER} is still being processed; retry in a moment.",
                           code="idempotency_key_in_use", details={"field": HEADER})
        return StoredResponse(status=int(record["status"]), body=record["body"], headers=dict(record["headers"]))
