"""Life balance: time-weighted shares, no double counting, targets validation and the empty result."""

from datetime import datetime, timedelta

import pytest

from geulpi_tasks.analyses import analyze_balance, parse_balance_request
from geulpi_tasks.analyses.defaults import DEFAULT_TARGETS
from geulpi_tasks.errors import InvalidInput, InvalidValue

MONDAY = datetime(2024, 5, 6)


def ev(title, start, end, category=None, **extra):
    out = {"title": title, "startTime": start.isoformat(), "endTime": end.isoformat(), **extra}
    if category:
        out["category"] = category
    return out


def block(day, hour, hours, category, title=None):
    start = MONDAY + timedelta(days=day, hours=hour)
    return ev(title or category.lower(), start, start + timedelta(hours=hours), category)


def request(events, **extra):
    payload = {"userId": "u1", "startDate": "2024-05-06", "endDate": "2024-05-12", "events": events, **extra}
    return parse_balance_request(payload)


def balanced_week():
    events = []
    for day in range(7):
        events += [block(day, 9, 4, "WORK"), block(day, 14, 2, "PERSONAL"), block(day, 7, 1.5, "HEALTH"),
                   block(day, 19, 1, "SOCIAL"), block(day, 21, 1, "LEARNING"), block(day, 22, 0.5, "OTHER")]
    return events


def work_only_week():
    return [block(day, 9, 10, "WORK") for day in range(7)]


def test_a_balanced_week_scores_higher_than_a_work_only_week():
    balanced = analyze_balance(request(balanced_week()))
    work_only = analyze_balance(request(work_only_week()))
    assert balanced["score"] > 0.95
    assert work_only["score"] == pytest.approx(0.4)  # 1 − ½(|100−40| + 60) / 100
    assert {r["category"]: r["status"] for r in balanced["categories"]} == dict.fromkeys(DEFAULT_TARGETS, "optimal")
    work = next(r for r in work_only["categories"] if r["category"] == "WORK")
    assert (work["percentage"], work["status"]) == (100.0, "over")


def test_overlapping_events_are_not_double_counted():
    events = [ev("Work", MONDAY.replace(hour=9), MONDAY.replace(hour=12), "WORK"),
              ev("Gym", MONDAY.replace(hour=11), MONDAY.replace(hour=13), "HEALTH"),
              ev("Call", MONDAY.replace(hour=9), MONDAY.replace(hour=10), "WORK")]
    result = analyze_balance(request(events))
    assert result["totalHours"] == 4.0  # 9:00-13:00 busy, not 3 + 2 + 1 = 6
    hours = {r["category"]: r["hours"] for r in result["categories"]}
    assert hours["WORK"] == 2.5  # 9-10 split between two WORK events, 10-11 alone, 11-12 half with HEALTH
    assert hours["HEALTH"] == 1.5
    assert result["overlapHours"] == 2.0


def test_events_are_clipped_to_the_period():
    events = [ev("Trip", MONDAY - timedelta(hours=2), MONDAY + timedelta(hours=2), "OTHER")]
    assert analyze_balance(request(events))["totalHours"] == 2.0


def test_custom_targets_and_user_defined_areas_are_reported():
    events = [block(0, 9, 6, "WORK"), block(0, 16, 4, "HEALTH")]
    result = analyze_balance(request(events, targets={"work": 60, "HEALTH": 30, "Family": 10}))
    rows = {r["category"]: r for r in result["categories"]}
    assert result["targetsSource"] == "request"
    assert rows["WORK"]["status"] == "optimal" and rows["HEALTH"]["status"] == "over"
    assert rows["Family"]["hours"] == 0.0 and rows["Family"]["status"] == "under"
    assert any("Family" in r["message"] for r in result["recommendations"])


def test_insights_and_recommendations_quote_the_figures():
    result = analyze_balance(request(work_only_week()))
    assert any("100.0%" in line and "40% target" in line for line in result["insights"])
    top = result["recommendations"][0]
    assert (top["category"], top["action"]) == ("WORK", "decrease")
    assert top["hoursPerWeek"] == pytest.approx(42.0)  # 60 % of 70 h in one week


def test_no_events_gives_an_explicit_empty_result():
    result = analyze_balance(request([]))
    assert result["status"] == "empty" and result["score"] is None and result["totalHours"] == 0.0


@pytest.mark.parametrize("targets, error, field", [
    ({"WORK": 50, "HEALTH": 40}, InvalidValue, "targets"),
    ({"WORK": 110, "HEALTH": -10}, InvalidValue, "targets.HEALTH"),
    ({"WORK": "100"}, InvalidInput, "targets.WORK"),
    ({"WORK": True}, InvalidInput, "targets.WORK"),
    ([40, 60], InvalidInput, "targets"),
    ({}, InvalidValue, "targets"),
    ({"work": 50, "WORK": 50}, InvalidValue, "targets.WORK"),
])
def test_bad_targets_are_rejected_naming_the_field(targets, error, field):
    with pytest.raises(error) as caught:
        request([block(0, 9, 1, "WORK")], targets=targets)
    assert caught.type is error and caught.value.field == field


def test_targets_within_half_a_point_of_100_are_accepted():
    assert request([], targets={"WORK": 60.3, "HEALTH": 40})


@pytest.mark.parametrize("change, error, field", [
    ({"events": None}, InvalidInput, "events"),
    ({"startDate": "yesterday"}, InvalidInput, "startDate"),
    ({"endDate": "2024-05-01"}, InvalidValue, "endDate"),
    ({"endDate": "2026-05-01"}, InvalidValue, "endDate"),
    ({"userId": ""}, InvalidInput, "userId"),
])
def test_bad_requests_name_the_field(change, error, field):
    payload = {"userId": "u1", "startDate": "2024-05-06", "endDate": "2024-05-12", "events": [], **change}
    if change.get("events", 0) is None:
        del payload["events"]
    with pytest.raises(error) as caught:
        parse_balance_request(payload)
    assert caught.type is error and caught.value.field == field


def test_a_bad_event_is_named_by_index():
    events = [block(0, 9, 1, "WORK") for _ in range(4)]
    events[3]["endTime"] = "not a time"
    with pytest.raises(InvalidInput) as caught:
        request(events)
    assert caught.value.field == "events[3].endTime"


def test_categories_may_be_missing_at_parse_time():
    parsed = request([ev("Lunch", MONDAY.replace(hour=12), MONDAY.replace(hour=13))])
    assert parsed.events[0].category is None and parsed.events[0].event_id == "event-0"


def test_the_same_input_gives_the_same_answer():
    assert analyze_balance(request(balanced_week())) == analyze_balance(request(balanced_week()))
