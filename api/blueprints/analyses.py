"""Calendar-analysis endpoints: validate the whole request here, hand the same body to the inference queue, answer.

Validating before enqueueing means a bad request is a 400/422 naming the field and never costs a worker a slot;
the task parses the body again because a task trusts no caller.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint

from api.http import dispatch, json_body
from geulpi_tasks.analyses import (
    parse_balance_request,
    parse_burnout_request,
    parse_patterns_request,
    parse_schedule_request,
)
from workers.task_names import ANALYZE_BALANCE, ANALYZE_BURNOUT, DETECT_PATTERNS, OPTIMIZE_SCHEDULE

bp = Blueprint("analyses", __name__)


def _enqueue(task_name: str, parse: Callable[[Any], Any]) -> Any:
    body = json_body()
    parsed = parse(body)
    return dispatch(task_name, [body], users=[parsed.user_id])


@bp.post("/analyze-balance")
def analyze_balance() -> Any:
    return _enqueue(ANALYZE_BALANCE, parse_balance_request)


@bp.post("/optimize-schedule")
def optimize_schedule() -> Any:
    return _enqueue(OPTIMIZE_SCHEDULE, parse_schedule_request)


@bp.post("/detect-patterns")
def detect_patterns() -> Any:
    return _enqueue(DETECT_PATTERNS, parse_patterns_request)


@bp.post("/analyze-burnout")
def analyze_burnout() -> Any:
    return _enqueue(ANALYZE_BURNOUT, parse_burnout_request)
