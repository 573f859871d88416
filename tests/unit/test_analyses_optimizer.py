"""Schedule optimisation: suggestions keep every constraint on random calendars, good schedules stay put."""

import dataclasses
import random
from datetime import date, datetime, timedelta

import pytest

from geulpi_tasks.analyses import analyze_schedule, is_meeting, parse_schedule_request, score_schedule
from geulpi_tasks.analyses.constraints import WEEKDAYS
from geulpi_tasks.analyses.schedule_score import meeting_runs
from geulpi_tasks.analyses.timeline import merge_intervals
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import EventInput

MONDAY = datetime(2024, 5, 6)


def ev(title, start, minutes, category="WORK", **extra):
    return {"title": title, "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=minutes)).isoformat(), "category": category, **extra}


def at(hour, minute=0, day=0):
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def run(events, constraints=None, preferences=None, **window):
    payload = {"userId": "u1", "events": events, **(window or {"targetDate": "2024-05-06"})}
    if constraints is not None:
        payload["constraints"] = constraints
    if preferences is not None:
        payload["preferences"] = preferences
    request = parse_schedule_request(payload)
    return request, analyze_schedule(request)


def applied(request, result):
    moves = {s["eventId"]: s for s in result["suggestions"]}
    out = []
    for e in request.events:
        move = moves.get(e.event_id)
        if move:
            e = dataclasses.replace(e, start=datetime.fromisoformat(move["suggestedStart"]),
                                    end=datetime.fromisoformat(move["suggestedEnd"]))
        out.append(e)
    return out


def test_a_good_schedule_gets_no_suggestions():
    events = [ev("Standup", at(9), 15, attendees=["a@x"]), ev("Deep work", at(9, 30), 135),
              ev("Lunch", at(12), 60, "PERSONAL"), ev("Design review", at(13, 15), 60, attendees=["b@x"]),
              ev("Write spec", at(14, 30), 120), ev("Gym", at(19), 60, "HEALTH"), ev("Run", at(6), 45, "HEALTH")]
    _, result = run(events, {"minBreakMinutes": 10, "noMeetingWindows": [{"start": "12:00", "end": "13:00"}]})
    assert result["suggestions"] == []
    assert result["balanceScoreBefore"] == result["balanceScoreAfter"] == 1.0


def test_out_of_hours_and_overlapping_work_is_moved_and_fixed_events_are_not():
    events = [ev("Report", at(20), 60, eventId="late"), ev("Board meeting", at(10), 60, eventId="board", fixed=True),
              ev("Client call", at(10, 30), 60, eventId="call"), ev("Dinner", at(18, 30), 90, "SOCIAL")]
    request, result = run(events, {"minBreakMinutes": 15})
    moved = {s["eventId"]: s for s in result["suggestions"]}
    assert set(moved) == {"late", "call"}
    assert "outside_working_hours" in moved["late"]["reasonCodes"] and "overlap" in moved["call"]["reasonCodes"]
    assert "'Board meeting'" in moved["call"]["reason"]
    assert result["balanceScoreBefore"] < result["balanceScoreAfter"] == 1.0
    assert [s["impact"] for s in result["suggestions"]] == sorted((s["impact"] for s in result["suggestions"]),
                                                                  reverse=True)
    assert result["balanceScoreAfter"] == round(score_schedule(applied(request, result), request.constraints,
                                                               request.start, request.end).score, 3)


def test_meetings_over_the_daily_cap_move_to_another_day():
    events = [ev(f"Meeting {i}", at(9 + i), 45, attendees=["a"]) for i in range(6)]
    request, result = run(events, {"maxMeetingHoursPerDay": 3, "maxConsecutiveMeetingHours": 8},
                          startDate="2024-05-06", endDate="2024-05-10")
    after = applied(request, result)
    assert result["suggestions"] and all(s["suggestedStart"][:10] != "2024-05-06" for s in result["suggestions"])
    monday = [e for e in after if e.start.date() == date(2024, 5, 6)]
    assert sum(e.duration_minutes for e in monday) / 60 <= 3
    assert result["issuesAfter"]["meetingOverloadHours"] == 0.0


def test_allow_day_change_false_keeps_moves_on_the_same_day():
    events = [ev("Report", at(20), 60)]
    _, result = run(events, preferences={"allowDayChange": False}, startDate="2024-05-06", endDate="2024-05-10")
    assert result["suggestions"][0]["suggestedStart"].startswith("2024-05-06")


def test_events_without_ids_get_stable_generated_ids_and_max_suggestions_is_respected():
    events = [ev(f"Late {i}", at(19 + i % 3, 15 * (i // 3)), 15) for i in range(9)]
    _, result = run(events, preferences={"maxSuggestions": 3})
    assert len(result["suggestions"]) == 3
    assert all(s["eventId"].startswith("event-") for s in result["suggestions"])


def test_no_events_in_the_window_is_an_explicit_empty_result():
    _, result = run([ev("Other week", at(10, day=14), 60)])
    assert result["status"] == "empty" and result["suggestions"] == []


# ---------------------------------------------------------------- randomized constraint check

MEETING_TITLES = ["Sync", "1:1 with Kim", "Client call", "Write code", "Review PR", "Planning meeting", "회의"]


def random_case(rng: random.Random):
    first = date(2024, 5, 6) + timedelta(days=rng.randrange(14))
    days = rng.randint(1, 3)
    start = datetime.combine(first, datetime.min.time())
    events = []
    for i in range(rng.randint(0, 14)):
        begin = start + timedelta(minutes=5 * rng.randrange(-100, (days * 24 * 60 + 100) // 5))
        extra = {}
        if rng.random() < 0.5:
            extra["eventId"] = f"id{i}"
        if rng.random() < 0.15:
            extra["fixed"] = True
        if rng.random() < 0.3:
            extra["attendees"] = ["x@y"]
        category = rng.choice(["WORK"] * 4 + ["PERSONAL", "HEALTH", "SOCIAL"])
        events.append(ev(rng.choice(MEETING_TITLES), begin, rng.choice([15, 30, 45, 60, 90, 120, 180]), category,
                         **extra))
    work_start = rng.randint(6, 11)
    constraints = {
        "workingHours": {"start": f"{work_start:02d}:{rng.choice(['00', '30'])}",
                         "end": f"{min(24, work_start + rng.randint(5, 11)):02d}:00"},
        "daysOff": rng.sample(WEEKDAYS, rng.randint(0, 2)) + ([first.isoformat()] if rng.random() < 0.2 else []),
        "noMeetingWindows": [{"start": f"{h:02d}:00", "end": f"{h + 1:02d}:00"}
                             for h in rng.sample(range(8, 18), rng.randint(0, 2))],
        "maxMeetingHoursPerDay": rng.choice([1, 2, 3, 4, 6]),
        "maxConsecutiveMeetingHours": rng.choice([0.5, 1, 1.5, 2, 3]),
        "minBreakMinutes": rng.choice([0, 5, 10, 15, 30]),
    }
    explicit = [e["eventId"] for e in events if "eventId" in e]
    if explicit and rng.random() < 0.5:
        constraints["fixedEventIds"] = rng.sample(explicit, 1)
    payload = {"userId": "u", "startDate": first.isoformat(),
               "endDate": (first + timedelta(days=days - 1)).isoformat(), "events": events,
               "constraints": constraints, "preferences": {"maxSuggestions": rng.randint(1, 10)}}
    return payload


def overlaps(a: EventInput, b: EventInput, gap: timedelta) -> bool:
    return a.start < b.end + gap and b.start < a.end + gap


def check_constraints(request, result):
    c = request.constraints
    after = applied(request, result)
    by_id = {e.event_id: e for e in after}
    original = {e.event_id: e for e in request.events}
    assert len(result["suggestions"]) <= request.preferences.max_suggestions
    assert len({s["eventId"] for s in result["suggestions"]}) == len(result["suggestions"])
    for suggestion in result["suggestions"]:
        moved = by_id[suggestion["eventId"]]
        assert moved.event_id not in request.fixed_event_ids
        assert moved.end - moved.start == original[moved.event_id].end - original[moved.event_id].start
        day = moved.start.date()
        low, high = c.working_interval(day)
        assert request.start <= moved.start and moved.end <= request.end
        assert low <= moved.start and moved.end <= high
        assert day.weekday() not in c.weekdays_off and day not in c.dates_off
        for other in after:
            if other is not moved and other.end > other.start:
                assert not overlaps(moved, other, c.min_break), (moved, other)
        if is_meeting(moved):
            for w_start, w_end in c.no_meeting_intervals(day):
                assert moved.end <= w_start or moved.start >= w_end
            midnight = datetime.combine(day, datetime.min.time())
            meetings = merge_intervals((max(e.start, midnight), min(e.end, midnight + timedelta(days=1)))
                                       for e in after if is_meeting(e))
            assert sum((e - s).total_seconds() for s, e in meetings) / 3600 <= c.max_meeting_hours_per_day + 1e-9
            run = next(r for r in meeting_runs(meetings) if r[0] <= moved.start < r[1])
            assert (run[1] - run[0]).total_seconds() / 3600 <= c.max_consecutive_meeting_hours + 1e-9
    assert result["balanceScoreAfter"] >= result["balanceScoreBefore"]
    assert result["balanceScoreAfter"] == round(score_schedule(after, c, request.start, request.end).score, 3)


def test_suggestions_satisfy_every_constraint_on_random_calendars():
    rng = random.Random(20240506)
    suggested = 0
    for _ in range(200):
        request = parse_schedule_request(random_case(rng))
        result = analyze_schedule(request)
        check_constraints(request, result)
        suggested += len(result["suggestions"])
    assert suggested > 50  # the loop really exercised moves


def test_the_same_input_gives_the_same_suggestions():
    payload = random_case(random.Random(7))
    assert analyze_schedule(parse_schedule_request(payload)) == analyze_schedule(parse_schedule_request(payload))


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("change, error, field", [
    ({"constraints": {"workingHours": {"start": "9am", "end": "18:00"}}}, InvalidInput,
     "constraints.workingHours.start"),
    ({"constraints": {"workingHours": {"start": "18:00", "end": "09:00"}}}, InvalidValue,
     "constraints.workingHours.end"),
    ({"constraints": {"workingHours": {"start": "25:00", "end": "26:00"}}}, InvalidValue,
     "constraints.workingHours.start"),
    ({"constraints": {"daysOff": ["SATURDAY", "Funday"]}}, InvalidValue, "constraints.daysOff[1]"),
    ({"constraints": {"daysOff": ["2024-02-30"]}}, InvalidValue, "constraints.daysOff[0]"),
    ({"constraints": {"lunchBreak": 30}}, InvalidInput, "constraints.lunchBreak"),
    ({"constraints": {"maxMeetingHoursPerDay": -1}}, InvalidValue, "constraints.maxMeetingHoursPerDay"),
    ({"constraints": {"maxConsecutiveMeetingHours": "2"}}, InvalidInput, "constraints.maxConsecutiveMeetingHours"),
    ({"constraints": {"minBreakMinutes": 600}}, InvalidValue, "constraints.minBreakMinutes"),
    ({"constraints": {"noMeetingWindows": [{"start": "12:00", "end": "13:00", "days": ["Caturday"]}]}},
     InvalidValue, "constraints.noMeetingWindows[0].days[0]"),
    ({"constraints": {"fixedEventIds": ["nope"]}}, InvalidValue, "constraints.fixedEventIds[0]"),
    ({"constraints": "strict"}, InvalidInput, "constraints"),
    ({"preferences": {"maxSuggestions": 0}}, InvalidValue, "preferences.maxSuggestions"),
    ({"preferences": {"style": "aggressive"}}, InvalidInput, "preferences.style"),
    ({"startDate": "2024-05-06", "endDate": "2024-05-07"}, InvalidValue, "targetDate"),
    ({"targetDate": None}, InvalidInput, "targetDate"),
    ({"targetDate": "someday"}, InvalidInput, "targetDate"),
])
def test_bad_schedule_requests_name_the_field(change, error, field):
    payload = {"userId": "u", "targetDate": "2024-05-06", "events": [ev("A", at(10), 30, eventId="a")], **change}
    with pytest.raises(error) as caught:
        parse_schedule_request(payload)
    assert caught.type is error and caught.value.field == field


def test_duplicate_ids_and_non_boolean_fixed_flags_are_rejected():
    with pytest.raises(InvalidValue) as caught:
        run([ev("A", at(10), 30, eventId="a"), ev("B", at(11), 30, eventId="a")])
    assert caught.value.field == "events[1].eventId"
    with pytest.raises(InvalidInput) as caught:
        run([ev("A", at(10), 30, fixed="yes")])
    assert caught.value.field == "events[0].fixed"


def test_start_and_end_dates_are_an_alternative_to_target_date():
    request, _ = run([], startDate="2024-05-06", endDate="2024-05-08")
    assert (request.start, request.end) == (at(0), at(0, day=3))
    with pytest.raises(InvalidValue) as caught:
        run([], startDate="2024-05-08", endDate="2024-05-06")
    assert caught.value.field == "endDate"
