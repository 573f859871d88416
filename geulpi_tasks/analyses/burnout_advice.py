"""The words of the burnout analysis: warnings, recommendations, preventive actions and the monitoring plan.

Everything here follows from the factor breakdown (``burnout.score_factors``), so each sentence quotes the
measured figure. Priority of a factor's advice: high once it is past its limit, medium from
``MEDIUM_PRIORITY_FROM`` of the way from healthy to limit, low above healthy. Actions are sorted by priority,
then by the factor's contribution to the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

from geulpi_tasks.analyses import defaults

_PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class _Advice:
    warning: Callable[[float, float], str]
    recommendation: Callable[[float, float], str]
    action: str


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


_ADVICE: dict[str, _Advice] = {
    "workHoursPerWorkday": _Advice(
        lambda v, lim: f"You work {v:.1f} h on an average workday (limit {lim:g} h).",
        lambda v, ok: f"Bring workdays from {v:.1f} h back to about {ok:g} h by ending work at a fixed time.",
        "Set a fixed end time for work each day and block the time after it in your calendar."),
    "workHoursPerWeek": _Advice(
        lambda v, lim: f"You work {v:.1f} h per week (limit {lim:g} h).",
        lambda v, ok: f"Cut about {v - ok:.1f} h of work per week (now {v:.1f} h, aim for {ok:g} h): "
                      f"drop, delegate or postpone the least important commitments.",
        "Review next week's commitments and drop or delegate the lowest-value ones."),
    "longestStreakDays": _Advice(
        lambda v, lim: f"You worked {v:.0f} days in a row without a day off (limit {lim:g}).",
        lambda v, ok: f"Take a full day off at least every {ok:g} days; your longest run was {v:.0f} days.",
        "Block one full day without work in the next seven days."),
    "eveningWorkHoursPerWeek": _Advice(
        lambda v, lim: f"{v:.1f} h of work per week fall in the evening, 18:00–22:00 (limit {lim:g} h).",
        lambda v, ok: f"Move evening work ({v:.1f} h per week) into the working day; keep evenings for recovery.",
        "Turn off work notifications after 18:00 on most days."),
    "lateNightWorkHoursPerWeek": _Advice(
        lambda v, lim: f"{v:.1f} h of work per week fall between 22:00 and 06:00 (limit {lim:g} h).",
        lambda v, ok: f"Stop working after 22:00: {v:.1f} h per week of late-night work cut into sleep.",
        "Set a hard stop for all work at 22:00."),
    "weekendWorkShare": _Advice(
        lambda v, lim: f"You worked on {_pct(v)} of weekend days (limit {_pct(lim)}).",
        lambda v, ok: f"Keep weekends free of work: you worked on {_pct(v)} of them.",
        "Keep at least one weekend day completely free of work."),
    "meetingHoursPerWorkday": _Advice(
        lambda v, lim: f"You spend {v:.1f} h in meetings per workday (limit {lim:g} h).",
        lambda v, ok: f"Cut meetings from {v:.1f} h to under {ok:g} h a day: decline, shorten to 25/50 minutes "
                      f"or answer asynchronously.",
        "Block two meeting-free hours of focus time every workday."),
    "backToBackShare": _Advice(
        lambda v, lim: f"{_pct(v)} of transitions between work events leave less than "
                       f"{defaults.BACK_TO_BACK_MINUTES} minutes (limit {_pct(lim)}).",
        lambda v, ok: f"Leave at least {defaults.BACK_TO_BACK_MINUTES} minutes between work events; "
                      f"{_pct(v)} of transitions are back-to-back.",
        f"Add {defaults.BACK_TO_BACK_MINUTES}-minute buffers between meetings by default."),
    "workShare": _Advice(
        lambda v, lim: f"Work fills {_pct(v)} of your scheduled time (limit {_pct(lim)}).",
        lambda v, ok: f"Schedule life outside work too: work is {_pct(v)} of your calendar; add health, social "
                      f"or personal time.",
        "Put three HEALTH or PERSONAL blocks in your calendar this week."),
    "weeklyHoursTrend": _Advice(
        lambda v, lim: f"Weekly work hours are rising by {v:.1f} h every week (limit {lim:g} h).",
        lambda v, ok: f"Your weekly work hours rise by {v:.1f} h per week; decide now what to drop before the "
                      f"trend goes on.",
        "Plan next week with no more work hours than this week."),
}

_LEVEL_ACTIONS = {
    "critical": ("Talk to your manager or a health professional about your workload this week.", "high"),
    "high": ("Plan a noticeably lighter day within the next week.", "medium"),
}
_RECOVERY_ACTION = ("Protect recovery: 7–8 h of sleep and a HEALTH activity three times a week.", "low")


def _priority(normalized: float) -> str:
    if normalized >= 1.0:
        return "high"
    return "medium" if normalized >= defaults.MEDIUM_PRIORITY_FROM else "low"


def warnings_for(breakdown: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One warning per factor at or past its limit; "high" from ``WARNING_HIGH_RATIO`` × limit on."""
    warnings = []
    for name, f in sorted(breakdown.items(), key=lambda kv: (-kv[1]["contribution"], kv[0])):
        if f["value"] >= f["limit"] and f["limit"] > f["healthy"]:
            severity = "high" if f["value"] >= defaults.WARNING_HIGH_RATIO * f["limit"] else "medium"
            warnings.append({"factor": name, "value": f["value"], "limit": f["limit"], "severity": severity,
                             "message": _ADVICE[name].warning(f["value"], f["limit"])})
    return warnings


def advise(breakdown: dict[str, dict[str, Any]], level: str, last_day: date) -> dict[str, Any]:
    """Recommendations, at most ``MAX_ACTIONS`` preventive actions and a monitoring plan for the level."""
    elevated = sorted(((name, f) for name, f in breakdown.items() if f["normalized"] > 0),
                      key=lambda kv: (-kv[1]["contribution"], kv[0]))
    recommendations: list[dict[str, Any]] = [{"factor": name, "priority": _priority(f["normalized"]),
                        "message": _ADVICE[name].recommendation(f["value"], f["healthy"])}
                       for name, f in elevated][:defaults.MAX_ACTIONS]
    if not recommendations:
        recommendations = [{"factor": None, "priority": "low",
                            "message": "Your workload looks sustainable; keep your current rhythm of work and rest."}]
    actions = [{"action": _ADVICE[name].action, "priority": _priority(f["normalized"]), "factor": name,
                "contribution": f["contribution"]} for name, f in elevated]
    if level in _LEVEL_ACTIONS:
        text, priority = _LEVEL_ACTIONS[level]
        actions.append({"action": text, "priority": priority, "factor": None, "contribution": 1.0})
    actions.append({"action": _RECOVERY_ACTION[0], "priority": _RECOVERY_ACTION[1], "factor": None,
                    "contribution": 0.0})
    actions.sort(key=lambda a: (_PRIORITY_RANK[a["priority"]], -a["contribution"], a["action"]))
    for action in actions:
        del action["contribution"]
    every = defaults.CHECK_EVERY_DAYS[level]
    bounds = sorted(defaults.RISK_LEVELS)
    position = [name for _, name in bounds].index(level)
    escalate = bounds[position + 1][0] if position + 1 < len(bounds) else None
    return {
        "recommendations": recommendations,
        "preventiveActions": actions[:defaults.MAX_ACTIONS],
        "monitoringPlan": {
            "level": level,
            "checkFrequency": defaults.CHECK_FREQUENCY[level],
            "checkEveryDays": every,
            "nextCheckDate": (last_day + timedelta(days=every)).isoformat(),
            "watchFactors": [name for name, _ in elevated[:3]] or ["workHoursPerWeek"],
            "escalateAboveScore": escalate,
        },
    }
