"""Life balance: how the scheduled hours of a period split across categories, compared with target shares.

Shares are of scheduled (busy) time in [startDate, endDate), not of the whole clock, because unscheduled time
(sleep, commuting) is not in the calendar. Overlapping time is split equally among the events (see timeline).
Score = 1 − total-variation distance = 1 − ½·Σ|actual_c − target_c| (shares as fractions): 1 when the split
matches the targets exactly, 0 when it shares nothing with them; 1 − score is the share of time that would have
to move to another category to hit the targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, WithJsonSchema

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.parsing import (
    DATE_OR_DATETIME,
    EventsField,
    UserIdField,
    check_period,
    parse_moment,
    parse_request_model,
    required,
)
from geulpi_tasks.analyses.timeline import hours_by_category, overlap_hours
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import CATEGORIES, EventInput, domain_check


@dataclass(frozen=True)
class BalanceRequest:
    """A parsed /analyze-balance request; the period is half-open [start, end), targets are percent per area."""

    user_id: str
    start: datetime
    end: datetime
    events: tuple[EventInput, ...]
    targets: Mapping[str, float] = field(default_factory=lambda: dict(defaults.DEFAULT_TARGETS))
    targets_from_request: bool = False


def parse_targets(value: Any) -> dict[str, float]:
    """Percent targets per category; names of the six categories are matched case-insensitively, other names are
    user-defined life areas. Raises InvalidInput (400) for a malformed entry, InvalidValue (422) for bad values."""
    if not isinstance(value, Mapping):
        raise InvalidInput("'targets' must be an object of category → percent.", field="targets")
    if not value or len(value) > defaults.MAX_TARGETS:
        raise InvalidValue(f"'targets' must name 1 to {defaults.MAX_TARGETS} categories.", field="targets")
    targets: dict[str, float] = {}
    for raw_name, raw_percent in value.items():
        name = str(raw_name).strip()
        if name.upper() in CATEGORIES:
            name = name.upper()
        path = f"targets.{raw_name}"
        if not name or len(name) > defaults.MAX_AREA_NAME:
            raise InvalidInput(f"'{path}' must be a category name of 1 to {defaults.MAX_AREA_NAME} characters.",
                               field=path)
        if name in targets:
            raise InvalidValue(f"'{path}' repeats the category {name}.", field=path)
        if isinstance(raw_percent, bool) or not isinstance(raw_percent, (int, float)):
            raise InvalidInput(f"'{path}' must be a number of percent.", field=path)
        if not raw_percent >= 0 or raw_percent == float("inf"):
            raise InvalidValue(f"'{path}' must be a finite percentage of at least 0; got {raw_percent}.", field=path)
        targets[name] = float(raw_percent)
    total = sum(targets.values())
    if abs(total - 100.0) > defaults.TARGET_SUM_TOLERANCE:
        raise InvalidValue(f"'targets' add up to {total:g}%; they must add up to 100%.", field="targets",
                           details={"sum": round(total, 3)})
    return targets


def _end_of_period(end: datetime, info: ValidationInfo) -> datetime:
    start = info.data.get("startDate")
    if start is not None:
        domain_check(lambda _: check_period(start, end))(end)
    return end


class BalanceRequestBody(BaseModel):
    """``POST /analyze-balance``: hours per category over a period against target shares."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["userId", "events", "startDate",
                                                                              "endDate"]})

    userId: UserIdField = required()  # noqa: N815 - the wire's names
    startDate: Annotated[datetime, BeforeValidator(domain_check(lambda v: parse_moment(v, "startDate"))),  # noqa: N815
                         WithJsonSchema(DATE_OR_DATETIME)] = required()
    endDate: Annotated[datetime, BeforeValidator(domain_check(  # noqa: N815
        lambda v: parse_moment(v, "endDate", end_of_day=True))), AfterValidator(_end_of_period),
        WithJsonSchema(DATE_OR_DATETIME)] = required()
    events: EventsField = required()
    targets: Annotated[Any, BeforeValidator(domain_check(lambda v: None if v is None else parse_targets(v))),
                       WithJsonSchema({"type": ["object", "null"], "minProperties": 1,
                                       "maxProperties": defaults.MAX_TARGETS,
                                       "additionalProperties": {"type": "number", "minimum": 0},
                                       "description": "Percent per category or life area; must add up to 100"})
                       ] = None


def parse_balance_request(payload: Any, *, max_events: int = defaults.MAX_EVENTS) -> BalanceRequest:
    """Validate ``{userId, startDate, endDate, events, targets?}`` through ``BalanceRequestBody``.

    Raises InvalidInput (400) / InvalidValue (422) naming the field, e.g. ``targets.WORK`` or ``events[3].endTime``.
    """
    body = parse_request_model(BalanceRequestBody, payload, max_events)
    if body.targets is None:
        return BalanceRequest(body.userId, body.startDate, body.endDate, body.events)
    return BalanceRequest(body.userId, body.startDate, body.endDate, body.events, body.targets, True)


def balance_score(shares: Mapping[str, float], targets: Mapping[str, float]) -> float:
    """1 − total-variation distance between actual and target shares (both in percent)."""
    names = set(shares) | set(targets)
    distance = sum(abs(shares.get(n, 0.0) - targets.get(n, 0.0)) for n in names) / 200.0
    return max(0.0, min(1.0, 1.0 - distance))


def _status(actual: float, target: float) -> str:
    if abs(actual - target) <= defaults.OPTIMAL_BAND_POINTS:
        return "optimal"
    return "over" if actual > target else "under"


def _period(request: BalanceRequest) -> dict[str, Any]:
    days = (request.end - request.start).total_seconds() / 86400.0
    return {"startDate": request.start.isoformat(), "endDate": request.end.isoformat(), "days": round(days, 2)}


def analyze_balance(request: BalanceRequest) -> dict[str, Any]:
    """Hours and shares per category, status against the targets, a 0..1 score, insights and recommendations.

    Returns ``{"status": "empty", ...}`` when no event time falls inside the period; never raises for valid requests.
    """
    events = list(request.events)
    hours = hours_by_category(events, request.start, request.end)
    total = sum(hours.values())
    targets = dict(request.targets)
    base: dict[str, Any] = {
        "userId": request.user_id,
        "period": _period(request),
        "targetsSource": "request" if request.targets_from_request else "default",
    }
    if total <= 0:
        return {**base, "status": "empty", "totalHours": 0.0, "eventCount": 0, "score": None, "categories": [
            {"category": n, "hours": 0.0, "percentage": 0.0, "recommendedPercentage": round(t, 1),
             "difference": round(-t, 1), "status": _status(0.0, t)} for n, t in targets.items()],
            "insights": ["No scheduled time falls inside the period, so there is no balance to measure yet."],
            "recommendations": []}
    shares = {n: 100.0 * h / total for n, h in hours.items()}
    names = list(targets) + sorted(n for n in shares if n not in targets)
    rows: list[dict[str, Any]] = []
    for name in names:
        actual, target = shares.get(name, 0.0), targets.get(name, 0.0)
        rows.append({"category": name, "hours": round(hours.get(name, 0.0), 2), "percentage": round(actual, 1),
                     "recommendedPercentage": round(target, 1), "difference": round(actual - target, 1),
                     "status": _status(actual, target)})
    rows.sort(key=lambda r: (-r["hours"], r["category"]))
    score = balance_score(shares, targets)
    days = max((request.end - request.start).total_seconds() / 86400.0, 1e-9)
    in_period = sum(1 for e in events if e.end > request.start and e.start < request.end and e.end > e.start)
    overlap = overlap_hours(events, request.start, request.end)
    return {
        **base,
        "status": "ok",
        "totalHours": round(total, 2),
        "eventCount": in_period,
        "overlapHours": round(overlap, 2),
        "score": round(score, 3),
        "categories": rows,
        "insights": _insights(rows, total, days, score, overlap),
        "recommendations": _recommendations(rows, total, days),
    }


def _insights(rows: list[dict[str, Any]], total: float, days: float, score: float, overlap: float) -> list[str]:
    out = [f"You scheduled {total:.1f} h over {days:.1f} days ({total / days:.1f} h per day)."]
    top = rows[0]
    out.append(f"{top['category']} takes the largest share: {top['percentage']:.1f}% ({top['hours']:.1f} h) "
               f"against a {top['recommendedPercentage']:g}% target.")
    off = sorted((r for r in rows if r["status"] != "optimal"), key=lambda r: -abs(r["difference"]))
    for row in off[:3]:
        if row["hours"] == 0:
            out.append(f"No time went to {row['category']} (target {row['recommendedPercentage']:g}%).")
        else:
            word = "above" if row["status"] == "over" else "below"
            out.append(f"{row['category']} is at {row['percentage']:.1f}%, {abs(row['difference']):.1f} points "
                       f"{word} its {row['recommendedPercentage']:g}% target.")
    balanced = [r["category"] for r in rows if r["status"] == "optimal" and r["recommendedPercentage"] > 0]
    if balanced:
        out.append(f"On target (within ±{defaults.OPTIMAL_BAND_POINTS:g} points): {', '.join(balanced)}.")
    out.append(f"Balance score {score:.2f}: {100 * (1 - score):.0f}% of your scheduled time would have to move "
               f"to another category to match the targets.")
    if overlap > 0:
        out.append(f"{overlap:.1f} h of events overlap; that time was split between them, not counted twice.")
    return out


def _recommendations(rows: list[dict[str, Any]], total: float, days: float) -> list[dict[str, Any]]:
    out = []
    for row in sorted((r for r in rows if r["status"] != "optimal"), key=lambda r: -abs(r["difference"])):
        delta = abs(row["difference"]) / 100.0 * total
        per_week = delta * 7.0 / days
        if row["status"] == "under":
            action, verb = "increase", "Add"
        else:
            action, verb = "decrease", "Free up"
        out.append({
            "category": row["category"],
            "action": action,
            "currentPercentage": row["percentage"],
            "targetPercentage": row["recommendedPercentage"],
            "hoursPerWeek": round(per_week, 1),
            "message": f"{verb} about {per_week:.1f} h of {row['category']} per week "
                       f"(now {row['percentage']:.1f}%, target {row['recommendedPercentage']:g}%).",
        })
    return out
