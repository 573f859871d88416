"""Model versions and stages: list, promote, roll back (quick registry calls, done here) and compare (a task on
the training queue, since it evaluates both versions). With GEULPI_REQUIRE_APPROVAL a promotion to Production opens
a pending request instead (``api/blueprints/approvals.py``); rollback stays immediate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api.blueprints.approvals import open_request
from api.http import accepted, gateway, settings, wants_async
from geulpi_tasks.errors import InvalidInput, InvalidValue
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


def _query(name: str) -> str:
    value = request.args.get(name, "").strip()
    if not value:
        raise InvalidInput(f"Query parameter '{name}' is required.", field=name)
    return value


@bp.get("/models/<name>/versions")
def get_versions(name: str) -> Any:
    return list_versions(settings().effective_tracking_uri, check_model_name(name))


@bp.post("/models/<name>/promote")
def promote(name: str) -> Any:
    name = check_model_name(name)
    version = _query("version")
    stage = parse_stage(_query("target_stage"))
    if stage is Stage.PRODUCTION and settings().require_approval:
        return open_request(name, version)
    return promote_version(settings().effective_tracking_uri, name, version, stage.value)


@bp.post("/models/<name>/rollback")
def rollback(name: str) -> Any:
    return rollback_production(settings().effective_tracking_uri, check_model_name(name))


@bp.post("/models/compare")
def compare() -> Any:
    name = check_model_name(_query("model_name"), field="model_name")
    version_a, version_b = _query("version_a"), _query("version_b")
    tracking_uri = settings().effective_tracking_uri
    # Cheap checks here so a typo is a 400/404 at once, not a failed job.
    refs = [str(get_version(tracking_uri, name, v).version) for v in (version_a, version_b)]
    if refs[0] == refs[1]:
        raise InvalidValue("'version_a' and 'version_b' are the same version; name two different ones.",
                           field="version_b")
    args = [name, *refs]
    if wants_async():
        return accepted(gateway().submit(COMPARE_VERSIONS, args))
    return gateway().run(COMPARE_VERSIONS, args, timeout=settings().sync_timeout_s)
