"""Model-lifecycle tasks on the training queue: work too heavy for the API process (evaluating two versions)."""

from __future__ import annotations

from typing import Any

import redis

from geulpi_tasks import approval
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.feedback import list_feedback_rows
from geulpi_tasks.registry.compare import compare_versions
from geulpi_tasks.registry.gates import PromotionGates, RequestApproval
from geulpi_tasks.settings import Settings
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.task_names import COMPARE_FOR_APPROVAL, COMPARE_VERSIONS


@app.task(name=COMPARE_VERSIONS, track_started=True)
@domain_errors
def compare_versions_task(model_name: str, version_a: str, version_b: str) -> dict[str, Any]:
    for field, value in (("model_name", model_name), ("version_a", version_a), ("version_b", version_b)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"'{field}' must be a non-empty string.", field=field)
    settings = settings_of(app)
    return compare_versions(settings.effective_tracking_uri, model_name, version_a, version_b,
                            cache_dir=settings.data_dir / "model_cache", n_generated=settings.compare_eval_samples,
                            feedback_rows=list_feedback_rows(app.backend.client, settings.key_prefix))


@app.task(name=COMPARE_FOR_APPROVAL, track_started=True)
@domain_errors
def compare_for_approval(model_name: str, approval_id: str) -> dict[str, Any]:
    """Evaluate a pending promotion request's candidate against production and store it in the request."""
    for field, value in (("model_name", model_name), ("approval_id", approval_id)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"'{field}' must be a non-empty string.", field=field)
    settings = settings_of(app)
    client = redis.Redis.from_url(settings.redis_url)
    try:
        def compare(version_a: str, version_b: str) -> dict[str, Any]:
            return compare_versions(settings.effective_tracking_uri, model_name, version_a, version_b,
                                    cache_dir=settings.data_dir / "model_cache",
                                    n_generated=settings.compare_eval_samples,
                                    feedback_rows=list_feedback_rows(client, settings.key_prefix))

        request = approval.attach_comparison(client, settings.key_prefix, settings.effective_tracking_uri,
                                             approval_id, compare)
    finally:
        client.close()
    return {"approval_id": request.approval_id, "comparison": request.evidence.get("comparison")}


def approval_hook(settings: Settings, client: redis.Redis, *, requested_by: str, source: str
                  ) -> RequestApproval | None:
    """What a worker's auto-promotion passes as ``request_approval``: None unless GEULPI_REQUIRE_APPROVAL; each new
    request's comparison with production is queued on the training queue."""
    if not settings.require_approval:
        return None
    return approval.approval_hook(
        client, settings.key_prefix, approval.ApprovalPolicy.from_settings(settings),
        settings.effective_tracking_uri, requested_by=requested_by, source=source,
        gates=PromotionGates.from_settings(settings),
        created=lambda request: compare_for_approval.apply_async(args=[request.model_name, request.approval_id]))
