import pytest

from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import event_to_wire, parse_event, parse_events

GOOD = {"title": "Team standup", "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00"}


def test_parse_event_round_trips_through_wire_form():
    event = parse_event({**GOOD, "description": "Daily sync", "attendees": ["a@x.io", {"name": "Kim"}],
                         "eventId": 12, "userId": "u1"})
    again = parse_event(event_to_wire(event))
    assert again == event
    assert event.event_id == "12" and event.attendees == ("a@x.io", "Kim")


def test_missing_optional_fields_stay_empty_not_none():
    event = parse_event({**GOOD, "description": None, "location": None})
    assert event.description == "" and event.location == ""
    assert "description" not in event_to_wire(event)


@pytest.mark.parametrize("payload, field, family", [
    ({**GOOD, "title": ""}, "title", InvalidInput),
    ({k: v for k, v in GOOD.items() if k != "title"}, "title", InvalidInput),
    ({**GOOD, "title": 5}, "title", InvalidInput),
    ({**GOOD, "startTime": "yesterday"}, "startTime", InvalidInput),
    ({**GOOD, "endTime": None}, "endTime", InvalidInput),
    ({**GOOD, "endTime": "2024-01-20T08:00:00"}, "endTime", InvalidValue),
    ({**GOOD, "endTime": "2024-01-20T09:30:00+09:00"}, "endTime", InvalidValue),
    ({**GOOD, "attendees": "bob"}, "attendees", InvalidInput),
    ({**GOOD, "description": ["x"]}, "description", InvalidInput),
])
def test_bad_event_names_the_field(payload, field, family):
    with pytest.raises(family) as info:
        parse_event(payload)
    assert info.value.details["field"] == field


def test_offsets_are_kept_as_wall_clock_time():
    event = parse_event({**GOOD, "startTime": "2024-01-20T09:00:00Z", "endTime": "2024-01-20T18:30:00+09:00"})
    assert event.start.hour == 9 and event.end.hour == 9 and event.end.minute == 30


def test_batch_errors_name_the_element_and_the_limit():
    with pytest.raises(InvalidInput) as info:
        parse_events([GOOD, {**GOOD, "title": ""}], max_count=10)
    assert info.value.details["field"] == "events[1].title"
    with pytest.raises(InvalidInput) as info:
        parse_events([GOOD] * 3, max_count=2)
    assert info.value.code == "batch_too_large" and info.value.details["limit"] == 2
    with pytest.raises(InvalidInput):
        parse_events([], max_count=2)
