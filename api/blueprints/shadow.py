"""Shadow deployments: start, read, stop and promote the version that scores live traffic beside production.
State lives in Redis (503 in limited mode); the scoring itself happens in the inference workers."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint

from api.blueprints.approvals import request_approval_hook
from api.http import json_body, redis_client, settings
from api.operations import LOCATION, Answer, operation
from api.queries import MODEL_NAME_SCHEMA
from api.schema import PromotionApproval, ShadowPromotion, ShadowRequest, ShadowStarted, ShadowSummary
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.registry.lifecycle import check_model_name
from geulpi_tasks.shadow.lifecycle import parse_shadow_request, promote_shadow, start_shadow, stop_shadow
from geulpi_tasks.shadow.summary import get_shadow_summary

bp = Blueprint("shadow", __name__)
_PATH = {"name": MODEL_NAME_SCHEMA}


def _redis() -> redis.Redis:
    return redis_client("Shadow deployments")


def _gates() -> PromotionGates:
    return PromotionGates.from_settings(settings())


@bp.post("/models/<name>/shadow")
@operation("startShadow", "Start a version scoring live traffic beside production, off the callers' path; its "
                          "answers are never returned",
           path=_PATH, body=ShadowRequest, errors=(404, 409, 413, 503),
           answers={201: Answer("Shadowing", ShadowStarted),
                    200: Answer("That version was already shadowing (created=false)", ShadowStarted)})
def start(name: str) -> Any:
    name = check_model_name(name)
    version = parse_shadow_request(json_body())
    deployment, created = start_shadow(_redis(), settings().key_prefix, settings().effective_tracking_uri, name,
                                       version, served_model=settings().model_name)
    return {"shadow": deployment.to_wire(), "created": created}, 201 if created else 200


@bp.get("/models/<name>/shadow")
@operation("shadowSummary", "The model's most recent shadow: agreement per class, latency, confidence shift, both "
                            "versions' accuracy on the same corrected events, and a recommendation under the "
                            "promotion gates",
           path=_PATH, answers={200: Answer("Summary", ShadowSummary)}, errors=(404, 503))
def summary(name: str) -> Any:
    return get_shadow_summary(_redis(), settings().key_prefix, settings().effective_tracking_uri,
                              check_model_name(name), _gates())


@bp.delete("/models/<name>/shadow")
@operation("stopShadow", "Stop the running shadow; answers its final summary",
           path=_PATH, answers={200: Answer("Stopped; final summary", ShadowSummary)}, errors=(404, 503))
def stop(name: str) -> Any:
    name = check_model_name(name)
    stop_shadow(_redis(), settings().key_prefix, name)
    return get_shadow_summary(_redis(), settings().key_prefix, settings().effective_tracking_uri, name, _gates())


@bp.post("/models/<name>/shadow/promote")
@operation("promoteShadow", "Promote the running shadow's version through the promotion gates (Staging, then "
                            "Production); 409 promotion_refused with the gates' reasons",
           path=_PATH, errors=(404, 409, 503),
           answers={200: Answer("Promoted; the shadow has ended", ShadowPromotion),
                    202: Answer("GEULPI_REQUIRE_APPROVAL: the version passed the gates and waits in Staging, still "
                                "shadowing, for another API key's approval (Location: the request)",
                                PromotionApproval, headers=LOCATION)})
def promote(name: str) -> Any:
    outcome = promote_shadow(_redis(), settings().key_prefix, settings().effective_tracking_uri,
                             check_model_name(name), _gates(), request_approval=request_approval_hook("shadow"))
    pending = outcome.get("pending_approval")
    if pending is not None:
        return pending, 202, {"Location": f"/models/{pending['model_name']}/approvals/{pending['approval_id']}"}
    return outcome
