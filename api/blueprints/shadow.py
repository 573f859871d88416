"""Shadow deployments: start, read, stop and promote the version that scores live traffic beside production.
State lives in Redis (503 in limited mode); the scoring itself happens in the inference workers."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint

from api.http import json_body, redis_client, settings
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.registry.lifecycle import check_model_name
from geulpi_tasks.shadow.lifecycle import parse_shadow_request, promote_shadow, start_shadow, stop_shadow
from geulpi_tasks.shadow.summary import get_shadow_summary

bp = Blueprint("shadow", __name__)


def _redis() -> redis.Redis:
    return redis_client("Shadow deployments")


def _gates() -> PromotionGates:
    return PromotionGates.from_settings(settings())


@bp.post("/models/<name>/shadow")
def start(name: str) -> Any:
    name = check_model_name(name)
    version = parse_shadow_request(json_body())
    deployment, created = start_shadow(_redis(), settings().key_prefix, settings().effective_tracking_uri, name,
                                       version, served_model=settings().model_name)
    return {"shadow": deployment.to_wire(), "created": created}, 201 if created else 200


@bp.get("/models/<name>/shadow")
def summary(name: str) -> Any:
    return get_shadow_summary(_redis(), settings().key_prefix, settings().effective_tracking_uri,
                              check_model_name(name), _gates())


@bp.delete("/models/<name>/shadow")
def stop(name: str) -> Any:
    name = check_model_name(name)
    stop_shadow(_redis(), settings().key_prefix, name)
    return get_shadow_summary(_redis(), settings().key_prefix, settings().effective_tracking_uri, name, _gates())


@bp.post("/models/<name>/shadow/promote")
def promote(name: str) -> Any:
    return promote_shadow(_redis(), settings().key_prefix, settings().effective_tracking_uri, check_model_name(name),
                          _gates())
