"""Calendar-analysis tasks on the inference queue: parse the request, fill missing categories, analyze, return JSON.

They live on the inference queue because events sent without a category are classified by the production model
this process already serves; a request whose events all carry a category never needs that model.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from geulpi_tasks import analyses
from geulpi_tasks.analyses.categorize import count_uncategorized, fill_categories
from workers import process_state
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.private_results import PrivateResultRequest
from workers.task_names import ANALYZE_BALANCE, ANALYZE_BURNOUT, DETECT_PATTERNS, OPTIMIZE_SCHEDULE


def _analyze(payload: Any, parse: Callable[[Any], Any], analyze: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """parse → fill missing categories (loading the model only if one is missing) → analyze."""
    request = parse(payload)
    model_fields: dict[str, Any] = {"categorizedByModel": 0}
    if count_uncategorized(request.events):
        model = process_state.model_provider(settings_of(app)).current()
        events, count = fill_categories(model, request.events)
        request = dataclasses.replace(request, events=events)
        model_fields = {"categorizedByModel": count, "modelVersion": model.version}
    return {**analyze(request), **model_fields}


@app.task(name=ANALYZE_BALANCE, Request=PrivateResultRequest)
@domain_errors
def analyze_balance(payload: dict[str, Any]) -> dict[str, Any]:
    return _analyze(payload, analyses.parse_balance_request, analyses.analyze_balance)


@app.task(name=OPTIMIZE_SCHEDULE, Request=PrivateResultRequest)
@domain_errors
def optimize_schedule(payload: dict[str, Any]) -> dict[str, Any]:
    return _analyze(payload, analyses.parse_schedule_request, analyses.analyze_schedule)


@app.task(name=DETECT_PATTERNS, Request=PrivateResultRequest)
@domain_errors
def detect_patterns(payload: dict[str, Any]) -> dict[str, Any]:
    return _analyze(payload, analyses.parse_patterns_request, analyses.analyze_patterns)


@app.task(name=ANALYZE_BURNOUT, Request=PrivateResultRequest)
@domain_errors
def analyze_burnout(payload: dict[str, Any]) -> dict[str, Any]:
    return _analyze(payload, analyses.parse_burnout_request, analyses.analyze_burnout)
