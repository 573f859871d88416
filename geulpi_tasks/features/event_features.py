"""What the classifier sees of an event: normalised text and a handful of time/context numbers.

Text goes to character n-grams, which survive Korean spacing, typos, abbreviations and emoji far better than word
tokens. The numbers carry when and how long, which separate e.g. a weekday 10:00 sync from a Saturday dinner.
Missing fields are empty strings, never the word "None".
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Sequence

import numpy as np

from geulpi_tasks.schemas import EventInput

# Bumped whenever the meaning or order of features changes (drives the model's major semver).
FEATURE_SCHEMA_VERSION = 1

NUMERIC_FEATURES: tuple[str, ...] = (
    "hour_sin", "hour_cos", "weekday_sin", "weekday_cos", "is_weekend",
    "log_duration_min", "all_day", "late_night", "evening", "early_morning",
    "log_attendees", "has_description", "has_location",
)

_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC + lower-case + collapsed spaces: full-width forms, compatibility jamo and case stop mattering."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def event_text(event: EventInput) -> str:
    parts = [event.title, event.description, event.location]
    return " | ".join(normalize_text(p) for p in parts if p)


def _numeric_row(event: EventInput) -> list[float]:
    start = event.start
    hour = start.hour + start.minute / 60.0
    weekday = start.weekday()
    minutes = max(event.duration_minutes, 0.0)
    all_day = 1.0 if minutes >= 23 * 60 or (start.hour == 0 and start.minute == 0 and minutes >= 12 * 60) else 0.0
    return [
        math.sin(2 * math.pi * hour / 24.0),
        math.cos(2 * math.pi * hour / 24.0),
        math.sin(2 * math.pi * weekday / 7.0),
        math.cos(2 * math.pi * weekday / 7.0),
        1.0 if weekday >= 5 else 0.0,
        math.log1p(minutes),
        all_day,
        1.0 if (hour >= 22 or hour < 5) and not all_day else 0.0,
        1.0 if 18 <= hour < 22 else 0.0,
        1.0 if 5 <= hour < 8 else 0.0,
        math.log1p(len(event.attendees)),
        1.0 if event.description else 0.0,
        1.0 if event.location else 0.0,
    ]


def numeric_features(events: Sequence[EventInput]) -> np.ndarray:
    return np.asarray([_numeric_row(e) for e in events], dtype=np.float64).reshape(len(events), len(NUMERIC_FEATURES))


class MarkerSet:
    """A fixed vocabulary of keywords matched against normalised text.

    Latin markers must stand as words ("due" not inside "fondue") and are matched by one alternation regex;
    Hangul and emoji markers match as substrings because Korean attaches particles ("마감일", "중요한").
    """

    def __init__(self, markers: Sequence[str]):
        self.markers = tuple(markers)
        latin = sorted((m for m in self.markers if m.isascii()), key=len, reverse=True)
        self._latin = (re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, latin)) + r")(?![a-z0-9])")
                       if latin else None)
        self._other = tuple(m for m in self.markers if not m.isascii())
        # One search for every Hangul/emoji substring; ASCII text cannot hold any of them (issue 13: this was the
        # largest part of a batch's tags and priority rules).
        self._other_re = re.compile("|".join(map(re.escape, self._other))) if self._other else None

    def any_in(self, normalized: str) -> bool:
        if self._latin is not None and self._latin.search(normalized):
            return True
        return self._other_re is not None and not normalized.isascii() and self._other_re.search(normalized) is not None
