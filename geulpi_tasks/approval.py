"""Approval before production: with ``GEULPI_REQUIRE_APPROVAL`` a promotion to Production becomes a pending request
that a second, different API key must approve; the requester cannot approve their own request.

A request shows the evidence an approver needs: the candidate's gate results and realistic-set metrics (from its
MLflow run), ``compare`` against production (attached when it has run, see ``attach_comparison``) and the shadow
summary, if a shadow deployment ran (``find_shadow_summary``, the one hook). It is approved (the version is promoted
then, through ``promote_version``), rejected, or expires ``ttl_s`` after it was made; an expired request cannot be
approved and shows as expired. Rollback never needs approval.

Requests live in Redis, not in MLflow tags: deciding one must be a compare-and-set (two approvers, or an approval
racing a rejection, must not both win), which Redis gives (WATCH/MULTI) and the registry does not. Keys (all under
``<prefix>:approvals:``): ``request:<id>`` (JSON, kept ``ttl_s + retention_s``), ``model:<name>`` (sorted set of a
model's request ids by request time) and ``pending:<name>:<version>`` (the one pending request of a version, taken
with SET NX so two callers cannot open two). Without Redis (DISABLE_REDIS) there are no approvals: callers refuse a
promotion to Production with 503 rather than promote without one.

Every step is an audit entry (``geulpi_tasks.privacy.audit``): ``approvals.requested``, ``approvals.approved``,
``approvals.rejected``, ``approvals.expired`` (recorded once, by whoever first sees the request past its expiry) and
``approvals.refused`` (self-approval, an expired or already decided request). Actors are audit ids: an API key's id
(``key:…``, never the key), ``local:<user>`` for the CLI without a key, ``job:<id>`` for a training job.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable, Iterator

import redis

from geulpi_tasks.errors import (
    REDIS_OUTAGE_ERRORS,
    Conflict,
    Forbidden,
    GeulpiError,
    InvalidInput,
    NotFound,
    Unavailable,
)
from geulpi_tasks.privacy.audit import AuditEntry, record_audit
from geulpi_tasks.registry.gates import GateAssessment, PromotionGates, RequestApproval, assess_candidate
from geulpi_tasks.registry.lifecycle import _mlflow_call, check_model_name, check_transition, promote_version
from geulpi_tasks.registry.store import Stage, client_for, find_version_by_alias
from geulpi_tasks.shadow.summary import find_shadow_summary as latest_shadow_summary

# How many requests a listing returns at most (newest first).
MAX_LIST = 200
# The metrics of a candidate's run an approver sees: realistic holdouts, production measured on the same rows,
# held-out user corrections.
EVIDENCE_METRIC_PREFIXES = ("realistic_", "production_realistic_", "production_feedback_", "feedback_holdout_")
_ID_LENGTH = 16

# (tracking URI, model name, version) -> the shadow deployment's summary of that version, or None.
ShadowSummary = Callable[[Any, str, str, str, str, PromotionGates], "dict[str, Any] | None"]
# (version A, version B) -> what ``registry.compare.compare_versions`` answers for them.
CompareVersions = Callable[[str, str], "dict[str, Any]"]


def find_shadow_summary(client: Any, prefix: str, tracking_uri: str, name: str, version: str,
                        gates: PromotionGates) -> dict[str, Any] | None:
    """The hook: the summary of the model's latest shadow deployment when it shadowed ``version`` (running or
    ended), else None."""
    summary = latest_shadow_summary(client, prefix, tracking_uri, name, gates)
    if summary is None or str(summary["shadow"]["version"]) != str(version):
        return None
    return summary


class ApprovalState(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ApprovalPolicy:
    """How long a request stays pending (``ttl_s``), how long a decided one stays readable (``retention_s``, the
    audit trail's age by default) and the audit trail's own age limit."""

    ttl_s: float
    retention_s: float
    audit_max_age_s: float

    @classmethod
    def from_settings(cls, settings: Any) -> "ApprovalPolicy":
        return cls(ttl_s=float(settings.approval_ttl_s), retention_s=float(settings.audit_max_age_s),
                   audit_max_age_s=float(settings.audit_max_age_s))


@dataclass(frozen=True)
class ApprovalRequest:
    """One request to promote ``version`` of ``model_name`` to Production."""

    approval_id: str
    model_name: str
    version: str
    requested_by: str
    requested_at: float
    expires_at: float
    source: str
    state: ApprovalState = ApprovalState.PENDING
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    promotion: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "state": self.state.value}, default=str)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "ApprovalRequest":
        data = json.loads(raw)
        return cls(**{**data, "state": ApprovalState(data["state"])})

    def to_wire(self) -> dict[str, Any]:
        """The request as the API and the CLI show it (times in ISO 8601, UTC)."""
        return {"approval_id": self.approval_id, "model_name": self.model_name, "version": self.version,
                "state": self.state.value, "requested_by": self.requested_by, "requested_at": _iso(self.requested_at),
                "expires_at": _iso(self.expires_at), "source": self.source, "decided_by": self.decided_by,
                "decided_at": _iso(self.decided_at) if self.decided_at is not None else None, "reason": self.reason,
                "evidence": self.evidence, "promotion": self.promotion}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).isoformat(timespec="seconds")


def approval_key(key_prefix: str, *parts: str) -> str:
    """Every Redis key of the approvals area: ``<prefix>:approvals:<parts>``."""
    return ":".join((key_prefix, "approvals", *parts))


@contextmanager
def _redis_errors() -> Iterator[None]:
    try:
        yield
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis, which holds promotion approvals, is unreachable; retry shortly.",
                          details={"dependency": "redis"}) from err


def parse_state(value: Any, field: str = "state") -> ApprovalState | None:
    """A state filter as callers write it (case-insensitive); None for no filter, InvalidInput naming ``field``."""
    if value is None or value == "":
        return None
    names = {s.value: s for s in ApprovalState}
    if not isinstance(value, str) or value.strip().lower() not in names:
        raise InvalidInput(f"'{field}' must be one of {', '.join(names)}.", field=field,
                           details={"allowed": list(names)})
    return names[value.strip().lower()]


def _check_id(approval_id: Any) -> str:
    text = str(approval_id or "")
    if len(text) != _ID_LENGTH or any(c not in "0123456789abcdef" for c in text):
        raise NotFound(f"There is no promotion request '{text[:40]}'.", code="approval_not_found",
                       details={"field": "approval_id"})
    return text


def _audit(client: Any, prefix: str, policy: ApprovalPolicy, actor: str, action: str, request: ApprovalRequest,
           outcome: str, source: str) -> None:
    target = f"{request.model_name}:{request.version}#{request.approval_id}"
    record_audit(client, prefix, AuditEntry(actor=actor, action=f"approvals.{action}", target=target,
                                            outcome=outcome, source=source), max_age_s=policy.audit_max_age_s)


def _load(client: Any, prefix: str, approval_id: str) -> ApprovalRequest | None:
    raw = client.get(approval_key(prefix, "request", approval_id))
    return ApprovalRequest.from_json(raw) if raw is not None else None


def _update(client: Any, prefix: str, approval_id: str,
            change: Callable[[ApprovalRequest], ApprovalRequest | None]) -> tuple[ApprovalRequest | None, bool]:
    """Compare-and-set one request: ``change`` sees the stored request and returns the new one (None: no change).
    Returns (the request as stored after the call, whether this call changed it); (None, False) when missing."""
    key = approval_key(prefix, "request", approval_id)
    with client.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                if raw is None:
                    pipe.unwatch()
                    return None, False
                current = ApprovalRequest.from_json(raw)
                updated = change(current)
                if updated is None:
                    pipe.unwatch()
                    return current, False
                pipe.multi()
                pipe.set(key, updated.to_json(), keepttl=True)
                pipe.execute()
                return updated, True
            except redis.WatchError:
                continue


def _release_pending(client: Any, prefix: str, request: ApprovalRequest) -> None:
    """Free the version's pending slot if it still names ``request``."""
    key = approval_key(prefix, "pending", request.model_name, request.version)
    with client.pipeline() as pipe:
        try:
            pipe.watch(key)
            held = pipe.get(key)
            if held is not None and (held.decode() if isinstance(held, bytes) else str(held)) == request.approval_id:
                pipe.multi()
                pipe.delete(key)
                pipe.execute()
            else:
                pipe.unwatch()
        except redis.WatchError:  # someone else changed the slot: it no longer holds this request
            pass


def _settle(client: Any, prefix: str, policy: ApprovalPolicy, request: ApprovalRequest, now: float
            ) -> ApprovalRequest:
    """A pending request past its expiry becomes expired (stored, audited once); others are returned as they are."""
    if request.state is not ApprovalState.PENDING or now < request.expires_at:
        return request

    def expire(current: ApprovalRequest) -> ApprovalRequest | None:
        if current.state is not ApprovalState.PENDING:
            return None
        return replace(current, state=ApprovalState.EXPIRED, decided_at=current.expires_at,
                       reason=f"not approved within {policy.ttl_s:g} s (GEULPI_APPROVAL_TTL)")

    stored, changed = _update(client, prefix, request.approval_id, expire)
    if stored is None:
        return request
    if changed:
        _release_pending(client, prefix, stored)
        _audit(client, prefix, policy, "system:expiry", "expired", stored, "expired", "approval")
    return stored


def _evidence(client: Any, prefix: str, tracking_uri: str, name: str, version: str, gates: PromotionGates,
              assessment: GateAssessment | None, shadow_summary: ShadowSummary) -> dict[str, Any]:
    registry = client_for(tracking_uri)
    mv = _mlflow_call(f"Version {version} of model '{name}'", registry.get_model_version, name, version)
    metrics: dict[str, Any] = {}
    if mv.run_id:
        metrics = dict(_mlflow_call(f"Run {mv.run_id}", registry.get_run, mv.run_id).data.metrics)
    assessment = assessment or assess_candidate(tracking_uri, name, version, metrics, gates)
    production = find_version_by_alias(tracking_uri, name)
    return {"gates": assessment.to_dict(),
            "metrics": {k: v for k, v in sorted(metrics.items()) if k.startswith(EVIDENCE_METRIC_PREFIXES)},
            "production_version": production.version if production else None,
            "comparison": {"status": "pending"},
            "shadow": shadow_summary(client, prefix, tracking_uri, name, version, gates)}


def request_promotion(client: Any, prefix: str, policy: ApprovalPolicy, tracking_uri: str, name: str, version: Any,
                      *, requested_by: str, source: str, gates: PromotionGates,
                      assessment: GateAssessment | None = None, shadow_summary: ShadowSummary = find_shadow_summary,
                      now: float | None = None) -> tuple[ApprovalRequest, bool]:
    """Open a pending request to promote ``version`` (which must be in Staging) to Production; nothing is promoted.

    Returns (the request, whether it was created now). The same requester asking again while theirs is pending
    gets the same request back (a redelivered training job stays idempotent). Raises InvalidInput/NotFound for a
    bad model or version, Conflict ``invalid_transition`` when the version is not in Staging,
    ``already_in_production`` when it already serves, ``approval_pending`` when another requester's request for this
    version is pending (its id in details), Unavailable when Redis or the registry does not answer.
    """
    name = check_model_name(name)
    version, current, _model = check_transition(tracking_uri, name, version, Stage.PRODUCTION)
    if current is Stage.PRODUCTION:
        raise Conflict(f"Version {version} of '{name}' already serves in production; there is nothing to approve.",
                       code="already_in_production", details={"version": version})
    moment = time.time() if now is None else now
    slot = approval_key(prefix, "pending", name, version)
    with _redis_errors():
        for _ in range(3):
            approval_id = uuid.uuid4().hex[:_ID_LENGTH]
            # The slot outlives the expiry a little; expiry itself is decided by the request's expires_at.
            if client.set(slot, approval_id, nx=True, px=int((policy.ttl_s + 60) * 1000)):
                break
            held = client.get(slot)
            existing = _load(client, prefix, held.decode() if isinstance(held, bytes) else str(held or ""))
            if existing is not None:
                existing = _settle(client, prefix, policy, existing, moment)
                if existing.state is ApprovalState.PENDING:
                    if existing.requested_by == requested_by:
                        return existing, False
                    raise Conflict(f"Version {version} of '{name}' already has a pending promotion request "
                                   f"({existing.approval_id}); approve or reject it.", code="approval_pending",
                                   details={"approvalId": existing.approval_id,
                                            "requestedBy": existing.requested_by})
            client.delete(slot)  # a slot left by a decided, expired or vanished request
        else:
            raise Conflict(f"Version {version} of '{name}' is being requested by another caller; retry.",
                           code="approval_pending")
    try:
        evidence = _evidence(client, prefix, tracking_uri, name, version, gates, assessment, shadow_summary)
    except GeulpiError:
        with _redis_errors():
            client.delete(slot)
        raise
    request = ApprovalRequest(approval_id=approval_id, model_name=name, version=version, requested_by=requested_by,
                              requested_at=moment, expires_at=moment + policy.ttl_s, source=source,
                              evidence=evidence)
    keep_s = int(policy.ttl_s + policy.retention_s)
    with _redis_errors():
        with client.pipeline() as pipe:
            pipe.set(approval_key(prefix, "request", approval_id), request.to_json(), ex=keep_s)
            pipe.zadd(approval_key(prefix, "model", name), {approval_id: moment})
            pipe.expire(approval_key(prefix, "model", name), keep_s)
            pipe.execute()
        _audit(client, prefix, policy, requested_by, "requested", request, "pending", source)
    return request, True


def attach_comparison(client: Any, prefix: str, tracking_uri: str, approval_id: str,
                      compare: CompareVersions) -> ApprovalRequest:
    """Run ``compare`` (production, candidate) and store its answer in the request's evidence; a comparison that
    fails is stored as ``{"status": "failed", "error"}`` so the approver sees why. Raises NotFound for an unknown
    request, Unavailable when Redis does not answer."""
    approval_id = _check_id(approval_id)
    with _redis_errors():
        request = _load(client, prefix, approval_id)
    if request is None:
        raise NotFound(f"There is no promotion request '{approval_id}'.", code="approval_not_found",
                       details={"field": "approval_id"})
    production = find_version_by_alias(tracking_uri, request.model_name)
    comparison: dict[str, Any]
    if production is None or production.version == request.version:
        comparison = {"status": "no_production_version"}
    else:
        try:
            comparison = {"status": "done", **compare(production.version, request.version)}
        except GeulpiError as err:
            comparison = {"status": "failed", "error": err.to_dict()}

    def attach(current: ApprovalRequest) -> ApprovalRequest:
        return replace(current, evidence={**current.evidence, "comparison": comparison})

    with _redis_errors():
        stored, _ = _update(client, prefix, approval_id, attach)
    return stored or request


def _get(client: Any, prefix: str, policy: ApprovalPolicy, name: str, approval_id: str, now: float
         ) -> ApprovalRequest:
    approval_id = _check_id(approval_id)
    request = _load(client, prefix, approval_id)
    if request is None or request.model_name != name:
        raise NotFound(f"Model '{name}' has no promotion request '{approval_id}'.", code="approval_not_found",
                       details={"field": "approval_id"})
    return _settle(client, prefix, policy, request, now)


def get_request(client: Any, prefix: str, policy: ApprovalPolicy, name: str, approval_id: str, *,
                tracking_uri: str | None = None, gates: PromotionGates | None = None,
                shadow_summary: ShadowSummary = find_shadow_summary, now: float | None = None) -> ApprovalRequest:
    """One request of model ``name`` (expired ones show as expired). A pending request shows the shadow summary as
    it is now when ``tracking_uri`` and ``gates`` are given. Raises NotFound, Unavailable."""
    with _redis_errors():
        request = _get(client, prefix, policy, check_model_name(name), approval_id,
                       time.time() if now is None else now)
    if request.state is ApprovalState.PENDING and tracking_uri is not None and gates is not None:
        shadow = shadow_summary(client, prefix, tracking_uri, request.model_name, request.version, gates)
        if shadow is not None:
            request = replace(request, evidence={**request.evidence, "shadow": shadow})
    return request


def list_requests(client: Any, prefix: str, policy: ApprovalPolicy, name: str, *,
                  state: ApprovalState | None = None, now: float | None = None,
                  limit: int = MAX_LIST) -> list[ApprovalRequest]:
    """Requests of model ``name``, newest first, optionally only those in ``state``. Raises Unavailable."""
    name = check_model_name(name)
    moment = time.time() if now is None else now
    index = approval_key(prefix, "model", name)
    found: list[ApprovalRequest] = []
    with _redis_errors():
        for raw_id in client.zrevrange(index, 0, -1):
            approval_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            request = _load(client, prefix, approval_id)
            if request is None:  # kept past its retention
                client.zrem(index, approval_id)
                continue
            request = _settle(client, prefix, policy, request, moment)
            if state is None or request.state is state:
                found.append(request)
                if len(found) >= limit:
                    break
    return found


def _refuse(client: Any, prefix: str, policy: ApprovalPolicy, by: str, request: ApprovalRequest, err: GeulpiError,
            source: str) -> GeulpiError:
    _audit(client, prefix, policy, by, "refused", request, err.code, source)
    return err


def _undecidable(request: ApprovalRequest) -> Conflict:
    if request.state is ApprovalState.EXPIRED:
        return Conflict(f"Promotion request {request.approval_id} expired at {_iso(request.expires_at)} and can no "
                        "longer be decided; promote the version again to open a new request.",
                        code="approval_expired", details={"state": request.state.value})
    return Conflict(f"Promotion request {request.approval_id} was already {request.state.value} by "
                    f"{request.decided_by}.", code="approval_decided", details={"state": request.state.value})


def approve_request(client: Any, prefix: str, policy: ApprovalPolicy, tracking_uri: str, name: str,
                    approval_id: str, *, approved_by: str, source: str, reason: str | None = None,
                    now: float | None = None) -> ApprovalRequest:
    """Approve a pending request and promote its version to Production (``promote_version``).

    Raises NotFound for an unknown request, Forbidden ``self_approval`` when ``approved_by`` made the request,
    Conflict ``approval_expired``/``approval_decided`` when it is no longer pending (or ``invalid_transition`` when
    its version left Staging meanwhile), Unavailable. If the promotion itself fails the request stays pending.
    """
    name = check_model_name(name)
    moment = time.time() if now is None else now
    with _redis_errors():
        request = _get(client, prefix, policy, name, approval_id, moment)
        if request.state is not ApprovalState.PENDING:
            raise _refuse(client, prefix, policy, approved_by, request, _undecidable(request), source)
        if request.requested_by == approved_by:
            raise _refuse(client, prefix, policy, approved_by, request, Forbidden(
                f"Promotion request {request.approval_id} was made by {approved_by}; a different API key must "
                "approve it.", code="self_approval", details={"requestedBy": request.requested_by}), source)
    check_transition(tracking_uri, name, request.version, Stage.PRODUCTION)

    def decide(current: ApprovalRequest) -> ApprovalRequest | None:
        if current.state is not ApprovalState.PENDING:
            return None
        return replace(current, state=ApprovalState.APPROVED, decided_by=approved_by, decided_at=moment,
                       reason=reason)

    with _redis_errors():
        stored, changed = _update(client, prefix, request.approval_id, decide)
        if stored is None or not changed:
            raise _refuse(client, prefix, policy, approved_by, stored or request, _undecidable(stored or request),
                          source)
    try:
        promotion = promote_version(tracking_uri, name, request.version, Stage.PRODUCTION.value)
    except GeulpiError:
        with _redis_errors():
            _update(client, prefix, request.approval_id, lambda current: replace(
                current, state=ApprovalState.PENDING, decided_by=None, decided_at=None, reason=None))
        raise
    with _redis_errors():
        stored, _ = _update(client, prefix, request.approval_id, lambda current: replace(current, promotion=promotion))
        _release_pending(client, prefix, request)
        _audit(client, prefix, policy, approved_by, "approved", request, "ok", source)
    return stored or replace(request, promotion=promotion)


def reject_request(client: Any, prefix: str, policy: ApprovalPolicy, name: str, approval_id: str, *,
                   rejected_by: str, source: str, reason: str | None = None,
                   now: float | None = None) -> ApprovalRequest:
    """Reject a pending request (the requester may withdraw their own); nothing is promoted.

    Raises NotFound, Conflict ``approval_expired``/``approval_decided``, Unavailable."""
    name = check_model_name(name)
    moment = time.time() if now is None else now
    with _redis_errors():
        request = _get(client, prefix, policy, name, approval_id, moment)

        def decide(current: ApprovalRequest) -> ApprovalRequest | None:
            if current.state is not ApprovalState.PENDING:
                return None
            return replace(current, state=ApprovalState.REJECTED, decided_by=rejected_by, decided_at=moment,
                           reason=reason)

        stored, changed = _update(client, prefix, request.approval_id, decide)
        if stored is None or not changed:
            raise _refuse(client, prefix, policy, rejected_by, stored or request, _undecidable(stored or request),
                          source)
        _release_pending(client, prefix, stored)
        _audit(client, prefix, policy, rejected_by, "rejected", stored, "ok", source)
    return stored


def check_reason(value: Any, field: str = "reason") -> str | None:
    """An optional free-text reason of a decision: a string of at most 500 characters; InvalidInput otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise InvalidInput(f"'{field}' must be text of at most 500 characters.", field=field)
    return value.strip() or None


def approval_hook(client: Any, prefix: str, policy: ApprovalPolicy, tracking_uri: str, *, requested_by: str,
                  source: str, gates: PromotionGates,
                  created: Callable[[ApprovalRequest], None] | None = None) -> RequestApproval:
    """The ``request_approval`` hook of ``apply_auto_promote`` for a caller that must ask for approval: a candidate
    that passed the gates gets a pending request (its wire form is returned); ``created`` runs once for a new one
    (the workers and the API enqueue its comparison with production there)."""

    def request(name: str, version: str, assessment: GateAssessment) -> dict[str, Any]:
        pending, new = request_promotion(client, prefix, policy, tracking_uri, name, version,
                                         requested_by=requested_by, source=source, gates=gates,
                                         assessment=assessment)
        if new and created is not None:
            created(pending)
        return pending.to_wire()

    return request
