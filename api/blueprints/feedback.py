"""User corrections of classifications: stored durably for training and online accuracy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import json_body, redis_client, settings
from api.idempotency import idempotent
from geulpi_tasks.feedback import parse_feedback, save_feedback

bp = Blueprint("feedback", __name__)


@bp.post("/feedback")
@idempotent("feedback")
def post_feedback() -> Any:
    feedback = parse_feedback(json_body())
    record = save_feedback(redis_client("Feedback (it was not stored)"), settings().key_prefix, feedback,
                           default_model_name=settings().model_name)
    return record, 201
