"""Burnout risk: an overworked month scores above a normal one; advice only on request and bounded."""

from datetime import date, datetime, timedelta

import pytest

from geulpi_tasks.analyses import analyze_burnout, parse_burnout_request
from geulpi_tasks.analyses.burnout import risk_level
from geulpi_tasks.analyses.defaults import CHECK_FREQUENCY, MAX_ACTIONS, RISK_FACTORS
from geulpi_tasks.errors import InvalidInput, InvalidValue

FIRST = datetime(2024, 4, 1)  # a Monday


def ev(title, start, minutes, category="WORK", **extra):
    return {"title": title, "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=minutes)).isoformat(), "category": category, **extra}


def normal_month():
    """Four weeks of 8-hour weekdays (09:00-17:30 with a lunch break), gym twice a week, free weekends."""
    events = []
    for day in range(28):
        start = FIRST + timedelta(days=day)
        if start.weekday() < 5:
            events += [ev("Standup", start.replace(hour=9), 15, attendees=["t"]),
                       ev("Project work", start.replace(hour=9, minute=30), 150),
                       ev("Lunch", start.replace(hour=12), 60, "PERSONAL"),
                       ev("Project work", start.replace(hour=13), 270)]
            if start.weekday() in (1, 3):
                events.append(ev("Gym", start.replace(hour=18, minute=30), 60, "HEALTH"))
        else:
            events.append(ev("Family brunch", start.replace(hour=11), 120, "SOCIAL"))
    return events


def overworked_month():
    """Four weeks of 12-hour days every day, a meeting-heavy morning and late-night work sessions."""
    events = []
    for day in range(28):
        start = FIRST + timedelta(days=day)
        events += [ev("Client meeting", start.replace(hour=8), 120, attendees=["c"]),
                   ev("Sync", start.replace(hour=10), 120, attendees=["t"]),
                   ev("Build", start.replace(hour=12), 480),
                   ev("Late fixes", start.replace(hour=22, minute=30), 150)]
    return events


def analyze(events, **extra):
    return analyze_burnout(parse_burnout_request({"userId": "u", "events": events, **extra}))


LEVELS = ["low", "medium", "high", "critical"]


def test_an_overworked_month_has_higher_risk_and_level_than_a_normal_month():
    normal, overworked = analyze(normal_month()), analyze(overworked_month())
    assert normal["riskScore"] < 0.25 and normal["level"] == "low"
    assert overworked["riskScore"] > 0.75 and overworked["level"] == "critical"
    assert LEVELS.index(overworked["level"]) > LEVELS.index(normal["level"])
    factors = overworked["factors"]
    assert factors["workHoursPerWorkday"]["value"] == pytest.approx(14.5, abs=0.05)  # last night clipped
    assert factors["longestStreakDays"]["value"] == 28
    assert factors["weekendWorkShare"]["value"] == 1.0
    assert factors["lateNightWorkHoursPerWeek"]["value"] == pytest.approx(17.5, abs=0.6)
    assert {w["factor"] for w in overworked["warnings"]} >= {"workHoursPerWeek", "lateNightWorkHoursPerWeek"}
    assert normal["warnings"] == []


def test_normal_month_factors_are_measured_exactly():
    factors = analyze(normal_month())["factors"]
    assert factors["workHoursPerWorkday"]["value"] == 7.25  # 15 + 150 + 270 minutes
    assert factors["workHoursPerWeek"]["value"] == 36.25
    assert factors["longestStreakDays"]["value"] == 5
    assert factors["weekendWorkShare"]["value"] == 0.0
    assert factors["weeklyHoursTrend"]["value"] == 0.0


def test_overlapping_work_is_counted_once():
    start = FIRST.replace(hour=9)
    result = analyze([ev("A", start, 240), ev("B", start + timedelta(hours=2), 240)])
    assert result["metrics"]["totalWorkHours"] == 6.0


def test_score_is_the_weighted_sum_of_clipped_factors():
    result = analyze(overworked_month())
    assert sum(f.weight for f in RISK_FACTORS) == pytest.approx(1.0)
    assert result["riskScore"] == pytest.approx(sum(f["contribution"] for f in result["factors"].values()), abs=2e-3)
    assert [risk_level(x) for x in (0.0, 0.3, 0.6, 0.9)] == LEVELS


def test_recommendations_only_when_asked_and_at_most_eight_actions():
    without = analyze(overworked_month())
    assert not {"recommendations", "preventiveActions", "monitoringPlan"} & set(without)
    with_advice = analyze(overworked_month(), includeRecommendations=True)
    assert 0 < len(with_advice["recommendations"]) <= MAX_ACTIONS
    actions = with_advice["preventiveActions"]
    assert 0 < len(actions) <= MAX_ACTIONS
    ranks = [["high", "medium", "low"].index(a["priority"]) for a in actions]
    assert ranks == sorted(ranks)
    assert with_advice["monitoringPlan"]["checkFrequency"] == "daily"
    assert any("h per week" in r["message"] for r in with_advice["recommendations"])


def test_monitoring_frequency_follows_the_level():
    plan = analyze(normal_month(), includeRecommendations=True)["monitoringPlan"]
    assert plan["checkFrequency"] == CHECK_FREQUENCY["low"] == "biweekly"
    assert plan["nextCheckDate"] == (date(2024, 4, 28) + timedelta(days=14)).isoformat()


def test_lookback_limits_the_window_to_the_days_before_the_latest_event():
    result = analyze(overworked_month(), lookbackDays=7)
    assert result["period"] == {"startDate": "2024-04-22", "endDate": "2024-04-28", "days": 7, "lookbackDays": 7}


def test_no_events_is_an_explicit_empty_result():
    result = analyze([], includeRecommendations=True)
    assert result["status"] == "empty" and result["riskScore"] is None and "recommendations" not in result


def test_the_same_input_gives_the_same_answer():
    assert analyze(overworked_month(), includeRecommendations=True) == analyze(overworked_month(),
                                                                               includeRecommendations=True)


@pytest.mark.parametrize("change, error, field", [
    ({"includeRecommendations": "yes"}, InvalidInput, "includeRecommendations"),
    ({"lookbackDays": 400}, InvalidValue, "lookbackDays"),
    ({"lookbackDays": True}, InvalidInput, "lookbackDays"),
    ({"events": [{"title": "x", "startTime": "2024-04-01T10:00", "endTime": "2024-04-01T09:00"}]}, InvalidValue,
     "events[0].endTime"),
    ({"events": [{"title": "x", "startTime": "2024-04-01T10:00", "endTime": "2024-04-01T11:00",
                  "category": "NAP"}]}, InvalidInput, "events[0].category"),
])
def test_bad_burnout_requests_name_the_field(change, error, field):
    with pytest.raises(error) as caught:
        parse_burnout_request({"userId": "u", "events": [], **change})
    assert caught.type is error and caught.value.field == field


def test_a_body_that_is_not_an_object_is_rejected():
    with pytest.raises(InvalidInput) as caught:
        parse_burnout_request([])
    assert caught.value.field == "body"
