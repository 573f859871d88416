"""Calendar-analysis endpoints: validate the whole request here, hand the same body to the inference queue, answer.

Validating before enqueueing means a bad request is a 400/422 naming the field and never costs a worker a slot;
the task parses the body again because a task trusts no caller.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint
from pydantic import BaseModel

from api.http import dispatch, json_body
from api.operations import ACCEPTED, Answer, operation, ref
from api.queries import AsyncQuery
from api.schema import BalanceResult, BurnoutResult, CategorizedByModel, PatternsResult, ScheduleResult
from geulpi_tasks.analyses import (
    parse_balance_request,
    parse_burnout_request,
    parse_patterns_request,
    parse_schedule_request,
)
from geulpi_tasks.analyses.balance import BalanceRequestBody
from geulpi_tasks.analyses.burnout import BurnoutRequestBody
from geulpi_tasks.analyses.optimizer import ScheduleRequestBody
from geulpi_tasks.analyses.patterns import PatternsRequestBody
from workers.task_names import ANALYZE_BALANCE, ANALYZE_BURNOUT, DETECT_PATTERNS, OPTIMIZE_SCHEDULE

bp = Blueprint("analyses", __name__)


def _analysis(operation_id: str, summary: str, body: type[BaseModel], result: type[BaseModel]) -> Any:
    """One calendar analysis: validated here (400/422), run on the inference queue (sync or 202)."""
    return operation(operation_id, summary, body=body, query=AsyncQuery, errors=(413, 422, 503, 504), answers={
        200: Answer("Analysis result", {"allOf": [ref(result), ref(CategorizedByModel)]}), 202: ACCEPTED})


def _enqueue(task_name: str, parse: Callable[[Any], Any], query: AsyncQuery) -> Any:
    body = json_body()
    parsed = parse(body)
    return dispatch(task_name, [body], query, users=[parsed.user_id])


@bp.post("/analyze-balance")
@_analysis("analyzeBalance", "Hours per category over a period against target shares, with a 0..1 balance score",
           BalanceRequestBody, BalanceResult)
def analyze_balance(query: AsyncQuery) -> Any:
    return _enqueue(ANALYZE_BALANCE, parse_balance_request, query)


@bp.post("/optimize-schedule")
@_analysis("optimizeSchedule", "Suggest new times for movable WORK events so the schedule breaks fewer constraints",
           ScheduleRequestBody, ScheduleResult)
def optimize_schedule(query: AsyncQuery) -> Any:
    return _enqueue(OPTIMIZE_SCHEDULE, parse_schedule_request, query)


@bp.post("/detect-patterns")
@_analysis("detectPatterns", "Recurring events, routines, the typical workday and anomalies in a calendar",
           PatternsRequestBody, PatternsResult)
def detect_patterns(query: AsyncQuery) -> Any:
    return _enqueue(DETECT_PATTERNS, parse_patterns_request, query)


@bp.post("/analyze-burnout")
@_analysis("analyzeBurnout", "Burnout risk 0..1 from workload factors, with warnings and optional recommendations",
           BurnoutRequestBody, BurnoutResult)
def analyze_burnout(query: AsyncQuery) -> Any:
    return _enqueue(ANALYZE_BURNOUT, parse_burnout_request, query)
