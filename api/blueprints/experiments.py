"""A/B experiment endpoints: create, list, results, stop. The experiments live in Redis (AOF-persisted)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, request

from api.blueprints.approvals import request_approval_hook
from api.http import json_body, redis_client, settings
from api.idempotency import idempotent
from api.operations import Answer, operation, ref
from api.queries import StopQuery, parse_query
from api.schema import Experiment, ExperimentResults
from geulpi_tasks.experiments import lifecycle
from geulpi_tasks.experiments.request import ExperimentRequest
from geulpi_tasks.registry.gates import PromotionGates

bp = Blueprint("experiments", __name__)

_CREATED = {"type": "object", "required": ["experiment_id", "status"], "properties": {
    "experiment_id": {"type": "string"}, "status": {"type": "string", "enum": ["running"]},
    "experiment": ref(Experiment)}}
_LISTED = {"type": "object", "properties": {"count": {"type": "integer"}, "experiments": {
    "type": "array", "items": ref(Experiment)}}}
# The body of a stop may carry the flag instead of the query.
_STOP_BODY = {"type": "object", "properties": {"promote_winner": {"type": "boolean"}}}


def _redis() -> redis.Redis:
    return redis_client("A/B experiments")


def _promote_flag(query: StopQuery) -> bool:
    """``?promote_winner=``, else the body's ``promote_winner`` (same values, same 400), else false."""
    if query.promote_winner is None and request.get_data(cache=True):
        body = json_body()
        if isinstance(body, dict) and body.get("promote_winner") is not None:
            query = parse_query(StopQuery, {"promote_winner": body["promote_winner"]})
    return bool(query.promote_winner)


@bp.post("/experiments/create")
@operation("createExperiment", "Start an A/B experiment between registered versions of a model (one running per model)",
           body=ExperimentRequest, answers={201: Answer("Running", _CREATED)}, errors=(404, 409, 413, 422, 503))
@idempotent("experiments_create")
def create_experiment() -> Any:
    experiment = lifecycle.create_experiment(_redis(), settings().key_prefix, settings().effective_tracking_uri,
                                           json_body())
    return {"experiment_id": experiment.experiment_id, "status": experiment.status.value,
            "experiment": experiment.to_wire()}, 201


@bp.get("/experiments")
@operation("listExperiments", "Every experiment with its status, oldest first",
           answers={200: Answer("Experiments", _LISTED)}, errors=(503,))
def list_experiments() -> Any:
    experiments = lifecycle.list_experiments(_redis(), settings().key_prefix)
    return {"experiments": experiments, "count": len(experiments)}


@bp.get("/experiments/<experiment_id>/results")
@operation("experimentResults",
           "Live (or final) results: per-variant figures, always-valid decision, fixed-horizon tests, SRM",
           answers={200: Answer("Results", ExperimentResults)}, errors=(404, 503))
def experiment_results(experiment_id: str) -> Any:
    return lifecycle.get_results(_redis(), settings().key_prefix, experiment_id,
                                 lifecycle.AnalysisConfig.from_settings(settings()),
                                 tracking_uri=settings().effective_tracking_uri)


@bp.post("/experiments/<experiment_id>/stop")
@operation("stopExperiment", "Stop (idempotent) and return the final results; optionally promote the winner",
           query=StopQuery, body=_STOP_BODY, body_required=False, errors=(404, 409, 503),
           answers={200: Answer("Final results", ExperimentResults)})
def stop_experiment(experiment_id: str, query: StopQuery) -> Any:
    return lifecycle.stop_experiment(_redis(), settings().key_prefix, experiment_id,
                                   lifecycle.AnalysisConfig.from_settings(settings()),
                                   promote_winner=_promote_flag(query),
                                   tracking_uri=settings().effective_tracking_uri,
                                   gates=PromotionGates.from_settings(settings()),
                                   request_approval=request_approval_hook("experiment"))
