"""A/B experiment endpoints: create, list, results, stop. The experiments live in Redis (AOF-persisted)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, request

from api.blueprints.approvals import request_approval_hook
from api.http import json_body, redis_client, settings
from api.idempotency import idempotent
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.experiments import lifecycle
from geulpi_tasks.registry.gates import PromotionGates

bp = Blueprint("experiments", __name__)


def _redis() -> redis.Redis:
    return redis_client("A/B experiments")


def _promote_flag() -> bool:
    raw = request.args.get("promote_winner")
    if raw is None and request.get_data(cache=True):
        body = json_body()
        raw = body.get("promote_winner") if isinstance(body, dict) else None
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    flag = str(raw).strip().lower()
    if flag not in {"true", "false", "1", "0", "yes", "no"}:
        raise InvalidInput("'promote_winner' must be true or false.", field="promote_winner")
    return flag in {"true", "1", "yes"}


@bp.post("/experiments/create")
@idempotent("experiments_create")
def create_experiment() -> Any:
    experiment = lifecycle.create_experiment(_redis(), settings().key_prefix, settings().effective_tracking_uri,
                                           json_body())
    return {"experiment_id": experiment.experiment_id, "status": experiment.status.value,
            "experiment": experiment.to_wire()}, 201


@bp.get("/experiments")
def list_experiments() -> Any:
    experiments = lifecycle.list_experiments(_redis(), settings().key_prefix)
    return {"experiments": experiments, "count": len(experiments)}


@bp.get("/experiments/<experiment_id>/results")
def experiment_results(experiment_id: str) -> Any:
    return lifecycle.get_results(_redis(), settings().key_prefix, experiment_id,
                                 lifecycle.AnalysisConfig.from_settings(settings()),
                                 tracking_uri=settings().effective_tracking_uri)


@bp.post("/experiments/<experiment_id>/stop")
def stop_experiment(experiment_id: str) -> Any:
    return lifecycle.stop_experiment(_redis(), settings().key_prefix, experiment_id,
                                   lifecycle.AnalysisConfig.from_settings(settings()), promote_winner=_promote_flag(),
                                   tracking_uri=settings().effective_tracking_uri,
                                   gates=PromotionGates.from_settings(settings()),
                                   request_approval=request_approval_hook("experiment"))
