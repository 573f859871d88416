"""API keys: the one place that decides whether a request needs ``Authorization: Bearer <key>``.

Every endpoint falls into one class, chosen by blueprint and method rather than listed per handler, so a new
endpoint is protected by default:

- open: ``/health``, ``/monitoring/metrics`` (Prometheus scrapes it), ``/openapi.json`` and the docs page ``/docs``
  with its files — never a key;
- classify: POST to classification, calendar analyses and feedback — a key when ``GEULPI_AUTH_CLASSIFY=key``;
- read: every other GET/HEAD — a key when ``GEULPI_AUTH_READS=key``;
- mutate: everything else (training, promote, rollback, compare, experiments, alert rules, erasure) — always a
  key, and each call (refused ones too) leaves an audit entry (``api/audit_trail.py``);
- private: reads that always need a key (the audit trail).

With no key configured the mutating class is refused outright (secure default; ``scripts/start`` generates one).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, request

from geulpi_tasks.errors import Unauthorized
from geulpi_tasks.privacy.audit import key_id
from geulpi_tasks.settings import Settings

OPEN_ENDPOINTS = frozenset({"system.health", "system.openapi", "monitoring.metrics", "docs.docs_page", "static"})
PRIVATE_ENDPOINTS = frozenset({"privacy.audit"})
CLASSIFY_BLUEPRINTS = frozenset({"classify", "analyses", "feedback"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MODES = ("open", "key")


class Access(str, enum.Enum):
    OPEN = "open"
    CLASSIFY = "classify"
    READ = "read"
    MUTATE = "mutate"
    PRIVATE = "private"


def access_for(endpoint: str | None, method: str) -> Access:
    """Which class a request falls into; unknown routes (404/405) are left to the router."""
    if endpoint is None or endpoint in OPEN_ENDPOINTS or method == "OPTIONS":
        return Access.OPEN
    if endpoint in PRIVATE_ENDPOINTS:
        return Access.PRIVATE
    if method in READ_METHODS:
        return Access.READ
    if endpoint.split(".", 1)[0] in CLASSIFY_BLUEPRINTS:
        return Access.CLASSIFY
    return Access.MUTATE


def _digest(key: str) -> bytes:
    # Comparing fixed-length digests keeps the comparison constant-time in the key's length as well.
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class AuthPolicy:
    """The configured keys and which classes need one; built once per app from ``Settings``."""

    key_digests: tuple[bytes, ...]
    reads_need_key: bool
    classify_needs_key: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> "AuthPolicy":
        for var, value in (("GEULPI_AUTH_READS", settings.auth_reads),
                           ("GEULPI_AUTH_CLASSIFY", settings.auth_classify)):
            if value.strip().lower() not in MODES:
                raise ValueError(f"{var} must be 'open' or 'key', not {value!r}.")
        return cls(key_digests=tuple(_digest(k) for k in settings.api_key_list),
                   reads_need_key=settings.auth_reads.strip().lower() == "key",
                   classify_needs_key=settings.auth_classify.strip().lower() == "key")

    def needs_key(self, access: Access) -> bool:
        return (access in (Access.MUTATE, Access.PRIVATE) or (access is Access.READ and self.reads_need_key)
                or (access is Access.CLASSIFY and self.classify_needs_key))

    def key_matches(self, presented: str) -> bool:
        """True when ``presented`` equals a configured key; every key is compared, so timing reveals no index."""
        digest = _digest(presented)
        matched = False
        for candidate in self.key_digests:
            matched |= hmac.compare_digest(digest, candidate)
        return matched

    def check(self, authorization: str | None, access: Access) -> None:
        """Raise ``Unauthorized`` unless the request may proceed."""
        if not self.needs_key(access):
            return
        if not self.key_digests:
            raise Unauthorized("No API key is configured on this server, so this endpoint is refused; set "
                               "GEULPI_API_KEYS (scripts/start generates one into <data_dir>/api-key).",
                               code="api_key_not_configured")
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized("This endpoint needs an API key: send 'Authorization: Bearer <key>'.",
                               code="missing_api_key")
        if not self.key_matches(presented.strip()):
            raise Unauthorized("The API key is not valid; send one of the keys in GEULPI_API_KEYS.",
                               code="invalid_api_key")


def caller_id() -> str:
    """Who is calling, as the audit trail names them: the presented key's id (never the key), else ``anonymous``.
    Requesters and approvers of promotions are told apart by it."""
    scheme, _, presented = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and presented.strip():
        return key_id(presented.strip())
    return "anonymous"


def register_auth(app: Flask, settings: Settings) -> AuthPolicy:
    """Check every request before its handler runs (and before its body is read). Returns the policy."""
    policy = AuthPolicy.from_settings(settings)

    @app.before_request
    def _require_key() -> None:
        policy.check(request.headers.get("Authorization"), access_for(request.endpoint, request.method))

    return policy
