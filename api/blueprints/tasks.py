"""Task status: state, progress and result of work the API accepted with 202."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import gateway
from api.operations import Answer, operation
from api.schema import TaskStatus
from geulpi_tasks.errors import InvalidInput

bp = Blueprint("tasks", __name__)


@bp.get("/tasks/<task_id>")
@operation("getTask", "State, progress and result of an accepted task",
           answers={200: Answer("Task status", TaskStatus)}, errors=(404, 503))
def get_task(task_id: str) -> Any:
    if len(task_id) > 100:
        raise InvalidInput("'task_id' is longer than 100 characters.", field="task_id")
    return gateway().status(task_id)
