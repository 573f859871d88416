"""Model-lifecycle tasks on the training queue: work too heavy for the API process (evaluating two versions)."""

from __future__ import annotations

from typing import Any

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.feedback import list_feedback_rows
from geulpi_tasks.registry.compare import compare_versions
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.task_names import COMPARE_VERSIONS


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
