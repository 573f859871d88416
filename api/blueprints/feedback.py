"""User corrections of classifications: stored durably for training and online accuracy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import json_body, redis_client, settings
from api.idempotency import idempotent
from api.operations import Answer, operation
from geulpi_tasks.feedback import Feedback, FeedbackRequest, parse_feedback, save_feedback

bp = Blueprint("feedback", __name__)


@bp.post("/feedback")
@operation("postFeedback", "Store a user's correction of a classification (training data and online accuracy)",
           body=FeedbackRequest, answers={201: Answer("Stored", Feedback)}, errors=(404, 413, 422, 503))
@idempotent("feedback")
def post_feedback() -> Any:
    feedback = parse_feedback(json_body())
    record = save_feedback(redis_client("Feedback (it was not stored)"), settings().key_prefix, feedback,
                           default_model_name=settings().model_name, cache_ttl_s=settings().feedback_cache_ttl_s)
    return record, 201
