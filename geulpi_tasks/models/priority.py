"""Priority from explicit urgency words (English and Korean).

A rule, not a model: people mark urgency with a small closed set of words, and a rule is predictable and explainable
to the user. ``priority_classifier`` (a trained model) can replace it later through the registry.
"""

from __future__ import annotations

from geulpi_tasks.features.event_features import MarkerSet, normalize_text
from geulpi_tasks.schemas import EventInput, Priority

HIGH_MARKERS: tuple[str, ...] = (
    "urgent", "asap", "a.s.a.p", "deadline", "critical", "important", "due", "must", "emergency", "high priority",
    "top priority",
    "p0", "p1", "blocker", "eod",
    "긴급", "급함", "급해", "마감", "중요", "필수", "반드시", "꼭", "데드라인", "비상",
)
LOW_MARKERS: tuple[str, ...] = (
    "optional", "maybe", "tentative", "if time", "if possible", "someday", "fyi", "low priority", "nice to have",
    "선택", "여유되면", "가능하면", "시간되면", "아마", "미정", "혹시",
)
_HIGH = MarkerSet(HIGH_MARKERS)
_LOW = MarkerSet(LOW_MARKERS)


def predict_priority(event: EventInput) -> Priority:
    """HIGH on an urgency word or "!!", LOW on a tentative/optional word, MEDIUM otherwise."""
    text = normalize_text(f"{event.title} {event.description}")
    if _HIGH.any_in(text) or "!!" in text:
        return Priority.HIGH
    if _LOW.any_in(text):
        return Priority.LOW
    return Priority.MEDIUM
