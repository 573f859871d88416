"""Promotion approvals (GEULPI_REQUIRE_APPROVAL): list, read, approve and reject the pending requests that a
promotion to Production opens. The requests live in Redis, so in limited mode (DISABLE_REDIS) every route here
answers 503; the domain is ``geulpi_tasks/approval.py``."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, request

from api.auth import caller_id
from api.http import gateway, json_body, redis_client, settings
from api.operations import Answer, operation
from api.queries import MODEL_NAME_SCHEMA, ApprovalsQuery
from api.schema import ApprovalDecisionBody, PromotionApproval, PromotionApprovals
from geulpi_tasks import approval
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.registry.gates import PromotionGates, RequestApproval
from workers.task_names import COMPARE_FOR_APPROVAL

bp = Blueprint("approvals", __name__)
_PATH = {"name": MODEL_NAME_SCHEMA, "approval_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}


def _redis() -> redis.Redis:
    return redis_client("Approval of promotions to Production")


def _policy() -> approval.ApprovalPolicy:
    return approval.ApprovalPolicy.from_settings(settings())


def _compare_later(pending: approval.ApprovalRequest) -> None:
    gateway().submit(COMPARE_FOR_APPROVAL, [pending.model_name, pending.approval_id])


def request_approval_hook(source: str) -> RequestApproval | None:
    """The caller's ``request_approval`` for an auto-promotion (an experiment's winner); None unless required."""
    if not settings().require_approval:
        return None
    return approval.approval_hook(_redis(), settings().key_prefix, _policy(), settings().effective_tracking_uri,
                                  requested_by=caller_id(), source=source,
                                  gates=PromotionGates.from_settings(settings()), created=_compare_later)


def open_request(name: str, version: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """``POST /models/<name>/promote`` to Production when approval is required: 202 with the pending request."""
    pending, created = approval.request_promotion(
        _redis(), settings().key_prefix, _policy(), settings().effective_tracking_uri, name, version,
        requested_by=caller_id(), source="api", gates=PromotionGates.from_settings(settings()))
    if created:
        _compare_later(pending)
    location = f"/models/{pending.model_name}/approvals/{pending.approval_id}"
    return pending.to_wire(), 202, {"Location": location}


def _reason() -> str | None:
    if not request.get_data(cache=True):
        return None
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object such as {\"reason\": \"...\"}.", field="body")
    return approval.check_reason(body.get("reason"))


@bp.get("/models/<name>/approvals")
@operation("listPromotionApprovals", "Promotion requests of a model, newest first (expired ones show as expired)",
           path=_PATH, query=ApprovalsQuery, answers={200: Answer("Requests", PromotionApprovals)}, errors=(503,))
def list_approvals(name: str, query: ApprovalsQuery) -> Any:
    found = approval.list_requests(_redis(), settings().key_prefix, _policy(), name, state=query.state)
    return {"model_name": name, "approvals": [r.to_wire() for r in found], "count": len(found)}


@bp.get("/models/<name>/approvals/<approval_id>")
@operation("getPromotionApproval",
           "One promotion request with its evidence: gates, realistic metrics, comparison, shadow summary",
           path=_PATH, answers={200: Answer("Request", PromotionApproval)}, errors=(404, 503))
def get_approval(name: str, approval_id: str) -> Any:
    return approval.get_request(_redis(), settings().key_prefix, _policy(), name, approval_id,
                                gates=PromotionGates.from_settings(settings()),
                                tracking_uri=settings().effective_tracking_uri).to_wire()


@bp.post("/models/<name>/approvals/<approval_id>/approve")
@operation("approvePromotion",
           "Approve a pending request and promote its version; a different API key than the requester's",
           path=_PATH, body=ApprovalDecisionBody, body_required=False,
           answers={200: Answer("Approved and promoted", PromotionApproval)}, errors=(403, 404, 409, 503))
def approve_request(name: str, approval_id: str) -> Any:
    reason = _reason()
    return approval.approve_request(_redis(), settings().key_prefix, _policy(), settings().effective_tracking_uri,
                                    name, approval_id, approved_by=caller_id(), source="api",
                                    reason=reason).to_wire()


@bp.post("/models/<name>/approvals/<approval_id>/reject")
@operation("rejectPromotion", "Reject a pending request (the requester may withdraw their own); nothing is promoted",
           path=_PATH, body=ApprovalDecisionBody, body_required=False,
           answers={200: Answer("Rejected", PromotionApproval)}, errors=(404, 409, 503))
def reject_request(name: str, approval_id: str) -> Any:
    reason = _reason()
    return approval.reject_request(_redis(), settings().key_prefix, _policy(), name, approval_id,
                                   rejected_by=caller_id(), source="api", reason=reason).to_wire()
