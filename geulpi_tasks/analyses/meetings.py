"""What counts as a meeting: the optimiser's meeting limits and the burnout meeting load both use this one rule.

A meeting is a WORK event that either has at least one attendee or whose title/description carries a
meeting word (English or Korean). Solo WORK blocks ("Write report") are focus time, not meetings, and
events of other categories are never meetings even with attendees (dinner with friends is SOCIAL).
"""

from __future__ import annotations

import re

from geulpi_tasks.schemas import Category, EventInput

_ENGLISH = re.compile(
    r"\b(meeting|meetings|meet|sync|standup|stand-up|stand up|call|calls|1:1|1-on-1|one-on-one|1on1|interview|"
    r"retro|retrospective|demo|kickoff|kick-off|all-hands|all hands|town hall|huddle|scrum|sprint planning|"
    r"review meeting|briefing|conference|webinar|zoom|teams call|workshop)\b",
    re.IGNORECASE,
)
# Korean has no word boundaries that \b understands, so these match as substrings.
_KOREAN = ("회의", "미팅", "면담", "면접", "통화", "스크럼", "스탠드업", "워크숍", "워크샵", "컨퍼런스", "브리핑")


def is_meeting(event: EventInput) -> bool:
    """True for WORK events with attendees or a meeting word in the title or description."""
    if event.category != Category.WORK:
        return False
    if event.attendees:
        return True
    text = f"{event.title} {event.description}"
    return bool(_ENGLISH.search(text)) or any(word in text for word in _KOREAN)
