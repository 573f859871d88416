"""Interval arithmetic shared by the analyses: unions, per-day cuts, time per category counted once."""

from datetime import date, datetime

import pytest

from geulpi_tasks.analyses.timeline import (
    days_of,
    hours_by_category,
    hours_by_day_and_category,
    merge_intervals,
    overlap_hours,
    split_by_day,
    subtract_intervals,
)
from geulpi_tasks.schemas import Category, EventInput


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute)


def event(start: datetime, end: datetime, category: Category | None = Category.WORK) -> EventInput:
    return EventInput(title="x", start=start, end=end, category=category)


def test_merge_intervals_joins_overlapping_and_touching_and_drops_empty():
    merged = merge_intervals([(at(6, 11), at(6, 12)), (at(6, 9), at(6, 10)), (at(6, 9, 30), at(6, 11)),
                              (at(6, 13), at(6, 13))])
    assert merged == [(at(6, 9), at(6, 12))]


def test_overlapping_time_is_split_equally_and_totals_equal_busy_time():
    events = [event(at(6, 9), at(6, 11)), event(at(6, 10), at(6, 12), Category.HEALTH)]
    hours = hours_by_category(events)
    assert hours == pytest.approx({"WORK": 1.5, "HEALTH": 1.5})
    assert sum(hours.values()) == pytest.approx(3.0)
    assert overlap_hours(events) == pytest.approx(1.0)


def test_three_way_overlap_and_clipping_to_a_window():
    events = [event(at(6, 8), at(6, 12)), event(at(6, 9), at(6, 10), Category.SOCIAL),
              event(at(6, 9), at(6, 10), Category.PERSONAL)]
    hours = hours_by_category(events, at(6, 9), at(6, 11))
    assert hours == pytest.approx({"WORK": 1 / 3 + 1, "SOCIAL": 1 / 3, "PERSONAL": 1 / 3})


def test_missing_category_counts_as_other():
    assert hours_by_category([event(at(6, 9), at(6, 10), None)]) == {"OTHER": 1.0}


def test_split_by_day_cuts_at_midnight_and_day_ending_at_midnight_stays_on_its_day():
    assert split_by_day(at(6, 22), at(7, 2)) == [(date(2024, 5, 6), at(6, 22), at(7, 0)),
                                                 (date(2024, 5, 7), at(7, 0), at(7, 2))]
    assert days_of(at(6, 22), at(7, 0)) == [date(2024, 5, 6)]
    per_day = hours_by_day_and_category([event(at(6, 22), at(7, 2))])
    assert per_day == {date(2024, 5, 6): {"WORK": 2.0}, date(2024, 5, 7): {"WORK": 2.0}}


def test_subtract_intervals_leaves_the_free_parts():
    free = subtract_intervals((at(6, 9), at(6, 18)), [(at(6, 8), at(6, 10)), (at(6, 12), at(6, 13))])
    assert free == [(at(6, 10), at(6, 12)), (at(6, 13), at(6, 18))]
