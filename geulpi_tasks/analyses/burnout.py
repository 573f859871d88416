"""Burnout risk from the user's own calendar: measured factors, one weighted score, a level and warnings.

Window: the ``lookbackDays`` calendar days ending on the day of the latest event, starting no earlier than the
day of the first event sent (days before it are unknown, not free). Work = union of WORK events, so overlapping
work is counted once.
Score = Σ_f weight_f × clip((value_f − healthy_f) / (limit_f − healthy_f), 0, 1) over ``defaults.RISK_FACTORS``
(weights sum to 1, so the score is in 0..1); the level follows ``defaults.RISK_LEVELS``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Sequence

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.burnout_advice import advise, warnings_for
from geulpi_tasks.analyses.meetings import is_meeting
from geulpi_tasks.analyses.parsing import (
    LOOKBACK_SCHEMA,
    EventsField,
    UserIdField,
    parse_bool,
    parse_lookback,
    parse_request_model,
    required,
    window_ending_at_latest,
)
from geulpi_tasks.analyses.timeline import (
    ONE_DAY,
    Interval,
    clip,
    clock_window,
    date_range,
    hours_per_day,
    intersection_hours,
    merge_intervals,
    midnight,
    total_hours,
)
from geulpi_tasks.schemas import Category, EventInput, domain_check


@dataclass(frozen=True)
class BurnoutRequest:
    """A parsed /analyze-burnout request; advice is added only when ``include_recommendations`` is true."""

    user_id: str
    events: tuple[EventInput, ...]
    lookback_days: int = defaults.DEFAULT_BURNOUT_LOOKBACK_DAYS
    include_recommendations: bool = False


class BurnoutRequestBody(BaseModel):
    """``POST /analyze-burnout``: burnout risk from workload factors, with warnings and optional advice."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["userId", "events"]})

    userId: UserIdField = required()  # noqa: N815 - the wire's names
    events: EventsField = required()
    lookbackDays: Annotated[int, BeforeValidator(domain_check(  # noqa: N815
        lambda v: parse_lookback({"lookbackDays": v}, defaults.DEFAULT_BURNOUT_LOOKBACK_DAYS))),
        LOOKBACK_SCHEMA] = defaults.DEFAULT_BURNOUT_LOOKBACK_DAYS
    includeRecommendations: Annotated[bool, BeforeValidator(domain_check(  # noqa: N815
        lambda v: parse_bool({"includeRecommendations": v}, "includeRecommendations", False))),
        WithJsonSchema({"type": ["boolean", "null"]})] = False


def parse_burnout_request(payload: Any, *, max_events: int = defaults.MAX_EVENTS) -> BurnoutRequest:
    """Validate ``{userId, events, lookbackDays?, includeRecommendations?}`` through ``BurnoutRequestBody``; raises
    InvalidInput/InvalidValue."""
    body = parse_request_model(BurnoutRequestBody, payload, max_events)
    return BurnoutRequest(body.userId, body.events, body.lookbackDays, body.includeRecommendations)


def _clipped(events: Sequence[EventInput], low: datetime, high: datetime) -> list[Interval]:
    return [piece for e in events if (piece := clip(e.start, e.end, low, high)) is not None]


def _clock_hours(work: list[Interval], days: list[date], start_hour: int, end_hour: int) -> float:
    windows = merge_intervals(w for d in days for w in clock_window(d, start_hour, end_hour))
    return intersection_hours(work, windows)


def _longest_streak(days: list[date], worked: set[date]) -> int:
    best = run = 0
    for day in days:
        run = run + 1 if day in worked else 0
        best = max(best, run)
    return best


def _back_to_back_share(work_pieces: list[Interval]) -> float:
    """Share of transitions between consecutive work events of one day that leave less than the minimum gap."""
    by_day: dict[date, list[Interval]] = defaultdict(list)
    for piece in work_pieces:
        by_day[piece[0].date()].append(piece)
    need = timedelta(minutes=defaults.BACK_TO_BACK_MINUTES)
    transitions = tight = 0
    for pieces in by_day.values():
        pieces.sort()
        running_end = pieces[0][1]
        for start, end in pieces[1:]:
            transitions += 1
            tight += start - running_end < need
            running_end = max(running_end, end)
    return tight / transitions if transitions else 0.0


def _weekly_hours(per_day: dict[date, float], days: list[date]) -> list[tuple[date, float]]:
    """Work hours per 7-day bin counted back from the last day; a partial first bin is scaled to a week."""
    bins = []
    last = days[-1]
    for k in range(len(days) // 7 + 1):
        bin_days = [last - timedelta(days=7 * k + j) for j in range(7)]
        observed = [d for d in bin_days if d >= days[0]]
        if len(observed) < defaults.MIN_TREND_BIN_DAYS:
            break
        bins.append((min(observed), sum(per_day.get(d, 0.0) for d in observed) * 7.0 / len(observed)))
    return sorted(bins)


def _slope(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    n = len(values)
    mean_x, mean_y = (n - 1) / 2.0, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


def measure_factors(events: Sequence[EventInput], first_day: date,
                    last_day: date) -> tuple[dict[str, float], dict[str, Any]]:
    """Raw factor values (keys of ``defaults.RISK_FACTORS``) and supporting metrics for [first_day, last_day]."""
    low, high = midnight(first_day), midnight(last_day) + ONE_DAY
    work_events = [e for e in events if e.category == Category.WORK]
    work_pieces = _clipped(work_events, low, high)
    work = merge_intervals(work_pieces)
    busy = merge_intervals(_clipped(events, low, high))
    days = date_range(first_day, last_day)
    weeks = len(days) / 7.0
    per_day = hours_per_day(work)
    total_work = total_hours(work)
    worked = {d for d, h in per_day.items() if h > 0}
    meetings = merge_intervals(_clipped([e for e in work_events if is_meeting(e)], low, high))
    weekend = [d for d in days if d.weekday() >= 5]
    weekly = _weekly_hours(per_day, days)
    busy_hours = total_hours(busy)
    values = {
        "workHoursPerWorkday": total_work / len(worked) if worked else 0.0,
        "workHoursPerWeek": total_work / weeks,
        "longestStreakDays": float(_longest_streak(days, worked)),
        "eveningWorkHoursPerWeek": _clock_hours(work, days, *defaults.EVENING_HOURS) / weeks,
        "lateNightWorkHoursPerWeek": _clock_hours(work, days, *defaults.LATE_NIGHT_WORK_HOURS) / weeks,
        "weekendWorkShare": sum(1 for d in weekend if d in worked) / len(weekend) if weekend else 0.0,
        "meetingHoursPerWorkday": total_hours(meetings) / len(worked) if worked else 0.0,
        "backToBackShare": _back_to_back_share(work_pieces),
        "workShare": total_work / busy_hours if busy_hours > 0 else 0.0,
        "weeklyHoursTrend": _slope([h for _, h in weekly]),
    }
    metrics = {
        "totalWorkHours": round(total_work, 2),
        "totalScheduledHours": round(busy_hours, 2),
        "workdays": len(worked),
        "maxDailyWorkHours": round(max(per_day.values(), default=0.0), 2),
        "weekendWorkHours": round(sum(per_day.get(d, 0.0) for d in weekend), 2),
        "meetingHours": round(total_hours(meetings), 2),
        "weeklyWorkHours": [{"weekStart": start.isoformat(), "hours": round(h, 1)} for start, h in weekly],
    }
    return values, metrics


def score_factors(values: dict[str, float]) -> tuple[float, dict[str, dict[str, Any]]]:
    """Risk score (clipped-linear weighted sum) and the per-factor breakdown."""
    breakdown: dict[str, dict[str, Any]] = {}
    score = 0.0
    for f in defaults.RISK_FACTORS:
        value = values[f.name]
        normalized = min(1.0, max(0.0, (value - f.healthy) / (f.limit - f.healthy)))
        score += f.weight * normalized
        breakdown[f.name] = {"value": round(value, 2), "unit": f.unit, "healthy": f.healthy, "limit": f.limit,
                             "normalized": round(normalized, 3), "weight": f.weight,
                             "contribution": round(f.weight * normalized, 3)}
    return min(1.0, max(0.0, score)), breakdown


def risk_level(score: float) -> str:
    return next(name for threshold, name in defaults.RISK_LEVELS if score >= threshold)


def analyze_burnout(request: BurnoutRequest) -> dict[str, Any]:
    """Risk score 0..1, level, factor breakdown and warnings; with ``include_recommendations`` also recommendations,
    at most ``MAX_ACTIONS`` preventive actions and a monitoring plan. No event time → ``{"status": "empty", ...}``."""
    base: dict[str, Any] = {"userId": request.user_id}
    timed = [e for e in request.events if e.end > e.start]
    window = window_ending_at_latest(timed, request.lookback_days)
    if window is None:
        return {**base, "status": "empty", "riskScore": None, "level": None, "factors": {}, "warnings": [],
                "message": "No events with a duration were sent, so there is no workload to assess."}
    first_day = max(window[0], min(e.start.date() for e in timed))
    values, metrics = measure_factors(request.events, first_day, window[1])
    score, breakdown = score_factors(values)
    level = risk_level(score)
    result = {
        **base,
        "status": "ok",
        "period": {"startDate": first_day.isoformat(), "endDate": window[1].isoformat(),
                   "days": (window[1] - first_day).days + 1, "lookbackDays": request.lookback_days},
        "riskScore": round(score, 3),
        "level": level,
        "factors": breakdown,
        "warnings": warnings_for(breakdown),
        "metrics": metrics,
    }
    if request.include_recommendations:
        result.update(advise(breakdown, level, window[1]))
    return result

