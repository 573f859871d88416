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
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def normalize_text(text: str) -> str:
    """NFKC + lower-case + collapsed spaces: full-width forms, compatibility jamo and case stop mattering."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def event_text(event: EventInput) -> str:
    parts = [event.title, event.description, event.location]
    return " | ".join(normalize_text(p) for p in parts if p)


class EventTexts:
    """The normalised texts a batch's model, priority rules and tags read, from one ``normalize_text`` per field
    and event (issue 13: each of the three normalised the same fields again).

    ``normalize_text`` of fields joined by a space equals the fields normalised one by one and joined by a space,
    leaving out those that normalise to nothing: a space composes with nothing under NFKC, runs of spaces across a
    field boundary collapse to one, and lower-casing looks no further than a space."""

    def __init__(self, events: Sequence[EventInput]):
        self._parts = [tuple(normalize_text(p) if p else None for p in (e.title, e.description, e.location))
                       for e in events]

    def model(self) -> list[str]:
        """``event_text`` of each event."""
        return [" | ".join(p for p in parts if p is not None) for parts in self._parts]

    def tags(self) -> list[str]:
        """``normalize_text`` of title, description and location joined (what tags are looked for in)."""
        return [" ".join(p for p in parts if p) for parts in self._parts]

    def rules(self) -> list[str]:
        """``normalize_text`` of title and description joined (what the priority rules read)."""
        return [" ".join(p for p in parts[:2] if p) for parts in self._parts]


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


# sin/cos of the hour and weekday by table: a start's hour + minute / 60 takes 1440 values and its weekday 7, so each
# is computed once with ``math`` exactly as ``_numeric_row`` computes it (NumPy's vectorised sin may differ in the
# last bit, and the stage-2 trees compare these numbers).
_MINUTE_OF_DAY = np.arange(24 * 60)
_HOUR_OF_MINUTE = np.asarray([h + m / 60.0 for h in range(24) for m in range(60)])
_HOUR_SIN = np.asarray([math.sin(2 * math.pi * h / 24.0) for h in _HOUR_OF_MINUTE.tolist()])
_HOUR_COS = np.asarray([math.cos(2 * math.pi * h / 24.0) for h in _HOUR_OF_MINUTE.tolist()])
_WEEKDAY_SIN = np.asarray([math.sin(2 * math.pi * d / 7.0) for d in range(7)])
_WEEKDAY_COS = np.asarray([math.cos(2 * math.pi * d / 7.0) for d in range(7)])


def numeric_features(events: Sequence[EventInput]) -> np.ndarray:
    """``_numeric_row`` of every event as one (n, 13) array, the same numbers to the last bit, computed as arrays
    (issue 13: the per-event rows were a visible part of a batch)."""
    n = len(events)
    out = np.zeros((n, len(NUMERIC_FEATURES)), dtype=np.float64)
    if not n:
        return out
    raw = np.asarray([(e.start.hour * 60 + e.start.minute, e.start.weekday(), math.log1p(max(e.duration_minutes, 0.0)),
                       max(e.duration_minutes, 0.0), math.log1p(len(e.attendees)), 1.0 if e.description else 0.0,
                       1.0 if e.location else 0.0) for e in events], dtype=np.float64)
    minute_of_day, weekday = raw[:, 0].astype(np.int64), raw[:, 1].astype(np.int64)
    hour, minutes = _HOUR_OF_MINUTE[minute_of_day], raw[:, 3]
    all_day = (minutes >= 23 * 60) | ((minute_of_day == 0) & (minutes >= 12 * 60))
    out[:, 0], out[:, 1] = _HOUR_SIN[minute_of_day], _HOUR_COS[minute_of_day]
    out[:, 2], out[:, 3] = _WEEKDAY_SIN[weekday], _WEEKDAY_COS[weekday]
    out[:, 4] = weekday >= 5
    out[:, 5] = raw[:, 2]
    out[:, 6] = all_day
    out[:, 7] = ((hour >= 22) | (hour < 5)) & ~all_day
    out[:, 8] = (hour >= 18) & (hour < 22)
    out[:, 9] = (hour >= 5) & (hour < 8)
    out[:, 10:13] = raw[:, 4:7]
    return out


class JoinedTexts:
    """A batch's normalised texts joined by newlines, with where each starts: made once for every marker set that
    scans them (issue 13: each of the tags' 14 sets joined and indexed the same texts again)."""

    def __init__(self, texts: Sequence[str]):
        self.texts = texts
        self.joined = "\n".join(texts)
        # None when a text holds a newline of its own: positions in the joined text would not map back.
        self.starts = (np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
                       if self.joined.count("\n") == len(texts) - 1 else None)
        self.ascii = self.joined.isascii()


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
        # The same without the look-behind, which keeps re from skipping ahead to the markers' first letters (3x
        # slower scans); ``found_in`` checks the character before each candidate itself.
        self._latin_ahead = (re.compile("(?:" + "|".join(map(re.escape, latin)) + r")(?![a-z0-9])")
                             if latin else None)
        self._other = tuple(m for m in self.markers if not m.isascii())
        # One search for every Hangul/emoji substring; ASCII text cannot hold any of them (issue 13: this was the
        # largest part of a batch's tags and priority rules).
        self._other_re = re.compile("|".join(map(re.escape, self._other))) if self._other else None

    def found_in(self, normalized: "Sequence[str] | JoinedTexts") -> np.ndarray:
        """``any_in`` of every text as a boolean array: each regex runs once over the texts joined by newlines
        (which normalised text never holds, and which no marker matches across), so a batch pays a few regex
        scans instead of two per text and marker set (issue 13). Pass a ``JoinedTexts`` when several marker sets
        scan the same texts."""
        batch = normalized if isinstance(normalized, JoinedTexts) else JoinedTexts(normalized)
        n = len(batch.texts)
        found = np.zeros(n, dtype=bool)
        if not n:
            return found
        if batch.starts is None:  # a text with its own newline: the joined positions would not map back
            return np.fromiter((self.any_in(t) for t in batch.texts), dtype=bool, count=n)
        joined = batch.joined
        positions: list[int] = []
        if self._latin_ahead is not None:
            search, pos = self._latin_ahead.search, 0
            while (m := search(joined, pos)) is not None:
                at = m.start()
                if at and joined[at - 1] in _WORD_CHARS:  # not a word start: the look-behind would refuse it
                    pos = at + 1
                    continue
                positions.append(at)
                pos = joined.find("\n", at) + 1  # this text has one; go on with the next
                if not pos:
                    break
        if self._other_re is not None and not batch.ascii:
            positions.extend(m.start() for m in self._other_re.finditer(joined))
        if positions:
            found[np.searchsorted(batch.starts, positions, side="right") - 1] = True
        return found

    def any_in(self, normalized: str) -> bool:
        if self._latin is not None and self._latin.search(normalized):
            return True
        return self._other_re is not None and not normalized.isascii() and self._other_re.search(normalized) is not None
