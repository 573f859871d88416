"""User corrections of classifications: stored durably for training and online accuracy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import gateway, json_body, settings
from geulpi_tasks.errors import Unavailable
from geulpi_tasks.feedback import parse_feedback, save_feedback

bp = Blueprint("feedback", __name__)


@bp.post("/feedback")
def post_feedback() -> Any:
    feedback = parse_feedback(json_body())
    if settings().disable_redis:
        raise Unavailable("Feedback is stored in Redis, which is disabled (DISABLE_REDIS); it was not stored.",
                          details={"dependency": "redis"})
    record = save_feedback(gateway().celery.backend.client, settings().key_prefix, feedback,
                           default_model_name=settings().model_name)
    return record, 201
