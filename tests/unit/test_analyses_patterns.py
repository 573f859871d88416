"""Pattern detection: weekly events, routines, workday, category blocks, anomalies and too-little data."""

import random
from datetime import datetime, timedelta

import pytest

from geulpi_tasks.analyses import analyze_patterns, parse_patterns_request
from geulpi_tasks.errors import InvalidInput, InvalidValue

MONDAY = datetime(2024, 1, 1)  # a Monday


def ev(title, start, minutes, category="WORK", **extra):
    return {"title": title, "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=minutes)).isoformat(), "category": category, **extra}


def at(day, hour, minute=0):
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def eight_weeks(seed=3):
    """Team sync every Monday 10:00, weekday work 09:00-18:00, gym-ish HEALTH Mon/Wed 07:00 with varying titles."""
    rng = random.Random(seed)
    events = []
    for week in range(8):
        title = "Team snyc" if week == 3 else f"team-sync #{week + 1}" if week % 2 else "Team sync"
        events.append(ev(title, at(7 * week, 10, rng.choice([0, 5])), 30, attendees=["team@x"]))
        for weekday in range(5):
            day = 7 * week + weekday
            events.append(ev("Email", at(day, 9), 45))
            events.append(ev(rng.choice(["Build feature", "Fix bugs", "Write docs"]), at(day, 14), 180))
        for weekday in (0, 2):
            events.append(ev(rng.choice(["Gym", "Run", "Swim"]), at(7 * week + weekday, 7), 60, "HEALTH"))
    return events


def analyze(events, **extra):
    return analyze_patterns(parse_patterns_request({"userId": "u", "events": events, **extra}))


def find(result, kind, **match):
    return [p for p in result["patterns"] if p["type"] == kind and all(p.get(k) == v for k, v in match.items())]


def test_weekly_recurring_meeting_is_found_with_high_confidence():
    result = analyze(eight_weeks())
    [sync] = find(result, "weekly_event", title="Team sync")
    assert sync["daysOfWeek"] == ["MONDAY"] and sync["startTime"] in {"10:00", "10:02"}
    assert sync["frequency"] == 8 and sync["eligible"] == 8
    assert 0.7 <= sync["confidence"] <= 1.0


def test_routines_workday_and_category_blocks_are_found():
    result = analyze(eight_weeks())
    [email] = find(result, "daily_routine", title="Email")
    assert email["daysOfWeek"] == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    [workday] = find(result, "workday")
    assert (workday["startTime"], workday["endTime"]) == ("09:00", "17:00")
    [health] = find(result, "category_block", category="HEALTH")
    assert health["daysOfWeek"] == ["MONDAY", "WEDNESDAY"] and health["startTime"] == "07:00"
    assert all(p["confidence"] >= 0.7 for p in result["patterns"])


def test_min_confidence_is_configurable():
    events = eight_weeks()
    events = [e for e in events if not (e["title"].lower().startswith("team") and e["startTime"] > "2024-02-01")]
    strict = analyze(events)
    lenient = analyze(events, minConfidence=0.3)
    assert not find(strict, "weekly_event", title="Team sync")
    assert find(lenient, "weekly_event", title="Team sync")[0]["confidence"] < 0.7


def test_a_3am_meeting_is_a_high_severity_anomaly():
    events = eight_weeks() + [ev("Vendor call", at(15, 3), 60, eventId="night", attendees=["v@x"])]
    result = analyze(events)
    [night] = [a for a in result["anomalies"] if a["eventId"] == "night"]
    assert night["severity"] == "high" and "unusual_time" in night["types"]
    assert result["anomalies"][0]["eventId"] == "night"


def test_unusual_duration_and_category_for_the_slot_are_flagged():
    events = eight_weeks() + [ev("Email", at(17, 9), 240, eventId="long-email"),
                              ev("Doctor", at(22, 14), 60, "HEALTH", eventId="doctor")]
    anomalies = {a["eventId"]: a for a in analyze(events)["anomalies"]}
    assert "unusual_duration" in anomalies["long-email"]["types"]
    assert anomalies["long-email"]["severity"] == "medium"
    assert "unusual_category" in anomalies["doctor"]["types"]


def test_fewer_than_ten_events_is_insufficient_data():
    result = analyze(eight_weeks()[:9])
    assert result["status"] == "insufficient_data" and result["minimumEvents"] == 10
    assert result["patterns"] == [] and result["eventCount"] == 9


def test_lookback_keeps_only_the_window_ending_at_the_latest_event():
    events = eight_weeks()
    assert analyze(events, lookbackDays=7)["eventCount"] == len([e for e in events if e["startTime"] >= "2024-02-17"])
    assert analyze(events, lookbackDays=1)["status"] == "insufficient_data"


def test_the_same_input_gives_the_same_answer():
    assert analyze(eight_weeks()) == analyze(eight_weeks())


@pytest.mark.parametrize("change, error, field", [
    ({"lookbackDays": 0}, InvalidValue, "lookbackDays"),
    ({"lookbackDays": "30"}, InvalidInput, "lookbackDays"),
    ({"minConfidence": 1.5}, InvalidValue, "minConfidence"),
    ({"events": "all"}, InvalidInput, "events"),
    ({"userId": None}, InvalidInput, "userId"),
])
def test_bad_pattern_requests_name_the_field(change, error, field):
    with pytest.raises(error) as caught:
        parse_patterns_request({"userId": "u", "events": [], **change})
    assert caught.type is error and caught.value.field == field
