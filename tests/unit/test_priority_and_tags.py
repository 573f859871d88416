import pytest

from geulpi_tasks.models.priority import predict_priority
from geulpi_tasks.models.tags import MAX_TAGS, suggest_tags
from geulpi_tasks.schemas import Priority, parse_event


def _event(title, description="", start="2024-01-22T10:00:00", end="2024-01-22T11:00:00", **extra):
    payload = {"title": title, "startTime": start, "endTime": end, **extra}
    if description:
        payload["description"] = description
    return parse_event(payload)


@pytest.mark.parametrize("title, description, expected", [
    ("URGENT: fix prod outage", "", Priority.HIGH),
    ("Report", "deadline is today", Priority.HIGH),
    ("보고서 마감", "", Priority.HIGH),
    ("긴급 회의", "", Priority.HIGH),
    ("call the bank!!", "", Priority.HIGH),
    ("Coffee chat (optional)", "", Priority.LOW),
    ("시간되면 산책", "", Priority.LOW),
    ("Fondue night", "", Priority.MEDIUM),   # 'due' inside a word is not urgency
    ("Low priority cleanup", "", Priority.LOW),
    ("Team lunch", "", Priority.MEDIUM),
])
def test_priority_follows_urgency_words_in_both_languages(title, description, expected):
    assert predict_priority(_event(title, description)) is expected


def test_tags_are_distinct_meaningful_and_at_most_five():
    event = _event("Zoom sync meeting w/ design - review deadline", "retro + demo prep",
                   attendees=["a", "b", "c"], start="2024-01-20T19:00:00", end="2024-01-20T20:00:00")
    tags = suggest_tags(event, "WORK", urgent=True)
    assert len(tags) == len(set(tags)) <= MAX_TAGS
    assert tags[:2] == ["meeting", "call"]
    assert all(t and t.strip() == t and t != "none" for t in tags)


def test_korean_keywords_map_to_the_same_tags():
    assert "exercise" in suggest_tags(_event("헬스장 운동"), "HEALTH")
    assert "medical" in suggest_tags(_event("치과 예약"), "HEALTH")
    assert "meeting" in suggest_tags(_event("주간 회의"), "WORK")


def test_time_context_tags():
    night = suggest_tags(_event("deploy", start="2024-01-20T23:30:00", end="2024-01-21T00:30:00"), "WORK")
    assert "late-night" in night and "weekend" in night
