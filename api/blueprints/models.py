"""Model versions and stages: list, promote, roll back (quick registry calls, done here) and compare (a task on
the training queue, since it evaluates both versions). With GEULPI_REQUIRE_APPROVAL a promotion to Production opens
a pending request instead (``api/blueprints/approvals.py``); rollback stays immediate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.blueprints.approvals import open_request
from api.http import accepted, gateway, settings, wants_async
from api.operations import ACCEPTED, LOCATION, Answer, operation
from api.queries import MODEL_NAME_SCHEMA, CompareQuery, PromoteQuery
from api.schema import Comparison, ModelVersions, Promotion, PromotionApproval, Rollback
from geulpi_tasks.errors import InvalidValue
from geulpi_tasks.registry.lifecycle import (
    check_model_name,
    get_version,
    list_versions,
    parse_stage,
    promote_version,
    rollback_production,
)
from geulpi_tasks.registry.store import Stage
from workers.task_names import COMPARE_VERSIONS

bp = Blueprint("models", __name__)

_NAME = {"name": MODEL_NAME_SCHEMA}


@bp.get("/models/<name>/versions")
@operation("listModelVersions",
           "Versions of a registered model, newest first, with stage, metrics and semantic version",
           path=_NAME, answers={200: Answer("Versions", ModelVersions)}, errors=(404, 503))
def get_versions(name: str) -> Any:
    return list_versions(settings().effective_tracking_uri, check_model_name(name))


@bp.post("/models/<name>/promote")
@operation("promoteModelVersion",
           "Move a version to Staging, Production (archives the previous production) or Archived",
           path=_NAME, query=PromoteQuery, errors=(404, 409, 503),
           answers={200: Answer("Stage changed (or already there: changed=false)", Promotion),
                    202: Answer("GEULPI_REQUIRE_APPROVAL and target_stage=Production: a pending request another API "
                                "key must approve (Location: the request)", PromotionApproval, headers=LOCATION)})
def promote(name: str, query: PromoteQuery) -> Any:
    name = check_model_name(name)
    stage = parse_stage(query.target_stage)
    if stage is Stage.PRODUCTION and settings().require_approval:
        return open_request(name, query.version)
    return promote_version(settings().effective_tracking_uri, name, query.version, stage.value)


@bp.post("/models/<name>/rollback")
@operation("rollbackModel", "Return production to the previous production version; the current one is archived",
           path=_NAME, answers={200: Answer("Rolled back", Rollback)}, errors=(404, 409, 503))
def rollback(name: str) -> Any:
    return rollback_production(settings().effective_tracking_uri, check_model_name(name))


@bp.post("/models/compare")
@operation("compareModelVersions",
           "Evaluate two versions now on the same held-out data (training queue) and recommend one",
           query=CompareQuery, errors=(404, 422, 503, 504),
           answers={200: Answer("Both evaluations and a recommendation", Comparison), 202: ACCEPTED})
def compare(query: CompareQuery) -> Any:
    name = check_model_name(query.model_name, field="model_name")
    tracking_uri = settings().effective_tracking_uri
    # Cheap checks here so a typo is a 400/404 at once, not a failed job.
    refs = [str(get_version(tracking_uri, name, v).version) for v in (query.version_a, query.version_b)]
    if refs[0] == refs[1]:
        raise InvalidValue("'version_a' and 'version_b' are the same version; name two different ones.",
                           field="version_b")
    args = [name, *refs]
    if wants_async(query):
        return accepted(gateway().submit(COMPARE_VERSIONS, args))
    return gateway().run(COMPARE_VERSIONS, args, timeout=settings().sync_timeout_s)
