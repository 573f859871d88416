"""Training jobs: ``POST /models/train`` validates the body, enqueues one job on the training queue, answers 202."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from api.http import gateway, json_body
from api.idempotency import idempotent
from api.operations import LOCATION, Answer, operation
from api.schema import TrainingAccepted
from geulpi_tasks.training.request import TrainingRequestBody, parse_training_request
from workers.task_names import TRAIN_MODEL

bp = Blueprint("training", __name__)


@bp.post("/models/train")
@operation("trainModel", "Start a training job on the training queue; poll /tasks/{jobId} for progress and the result",
           body=TrainingRequestBody, errors=(413, 422, 503), answers={
               202: Answer("Accepted; the Location header is /tasks/{jobId}", TrainingAccepted, headers=LOCATION)})
@idempotent("train")
def train_model() -> Any:
    body = json_body()
    parse_training_request(body)
    if isinstance(body, dict) and body.get("trigger") not in (None, "api"):
        body = {**body, "trigger": "api"}
    job_id = gateway().submit(TRAIN_MODEL, [body])
    location = url_for("tasks.get_task", task_id=job_id)
    return {"jobId": job_id, "taskId": job_id, "state": "PENDING", "statusUrl": location}, 202, {"Location": location}
