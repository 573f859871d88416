"""Pure calendar analyses behind /analyze-balance, /optimize-schedule, /detect-patterns and /analyze-burnout.

Each analysis has a strict request parser (``parse_<x>_request``: raises InvalidInput/InvalidValue naming the
field; event categories may still be missing) and a deterministic analysis (``analyze_<x>``: expects every event's
category filled in, e.g. ``dataclasses.replace(request, events=classified)``, and returns a JSON-able dict).
No Flask, Celery or Redis here; thresholds live in ``defaults``.
"""

from geulpi_tasks.analyses.balance import BalanceRequest, analyze_balance, balance_score, parse_balance_request
from geulpi_tasks.analyses.burnout import (
    BurnoutRequest,
    analyze_burnout,
    measure_factors,
    parse_burnout_request,
    risk_level,
    score_factors,
)
from geulpi_tasks.analyses.constraints import ScheduleConstraints, SchedulePreferences
from geulpi_tasks.analyses.meetings import is_meeting
from geulpi_tasks.analyses.optimizer import ScheduleRequest, analyze_schedule, parse_schedule_request
from geulpi_tasks.analyses.patterns import PatternsRequest, analyze_patterns, parse_patterns_request
from geulpi_tasks.analyses.schedule_score import ScheduleScore, score_schedule
from geulpi_tasks.analyses.timeline import hours_by_category, merge_intervals, overlap_hours, split_by_day

__all__ = [
    "BalanceRequest", "parse_balance_request", "analyze_balance", "balance_score",
    "ScheduleRequest", "ScheduleConstraints", "SchedulePreferences", "parse_schedule_request", "analyze_schedule",
    "ScheduleScore", "score_schedule",
    "PatternsRequest", "parse_patterns_request", "analyze_patterns",
    "BurnoutRequest", "parse_burnout_request", "analyze_burnout", "measure_factors", "score_factors", "risk_level",
    "is_meeting", "hours_by_category", "merge_intervals", "overlap_hours", "split_by_day",
]
