"""Short titles that several categories share ("lunch", "call", "Sarah", "점심"): what the generator's own events
say each could be.

LABELS.md decides an event by the purpose of its time; a title of one or two words that the rules put under several
classes ("client lunch" WORK, "lunch w/ Sarah" SOCIAL, "lunch & learn" LEARNING) does not tell that purpose, so a
person would answer it with a best guess, never a certain one. The spread is read from the generator's events (how
often each class uses the word or word pair in its titles), not written by hand, so it follows the templates and
the rules they encode. A trainer teaches these titles as a soft target (``models/event_classifier.py``).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from functools import lru_cache

from geulpi_tasks.data.generator import (
    CATEGORIES,
    EN_KID,
    EN_NAME,
    EN_SURNAME,
    KO_KID,
    KO_NAME,
    TEMPLATES,
    TERSE_EN,
    TERSE_KO,
    generate_events,
    is_contentless,
)

# A word or word pair counts as shared when it is in at least MIN_TITLES short generated titles (at most
# SHORT_WORDS words, where the words are the whole content) and no class holds more than MAX_SHARE of them, or when
# the generator gives it alone to OTHER (an OTHER template, or a terse title that needs its notes: "call",
# "pick up", a bare name) and no class holds more than OTHER_MAX_SHARE of the titles that use it. Never one that a
# template gives alone to another class ("gym" is HEALTH by itself, whatever "gym membership" is).
MIN_TITLES = 20
MAX_SHARE = 0.6
OTHER_MAX_SHARE = 0.9
SHORT_WORDS = 3
# Person names are one lexicon: any name says as much as another, so they are counted together.
NAME = "{name}"
_NAMES = frozenset(n.lower() for n in (*EN_NAME, *EN_SURNAME, *EN_KID, *KO_KID, *(k for k, _ in KO_NAME)))
_REFERENCE_EVENTS = 30000
# Letters only (Latin or Hangul, no digits or symbols): clock times and codes are taught elsewhere.
_WORD = re.compile(r"^[^\W\d_]+$")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def _title_words(title: str) -> list[str]:
    return [_EDGE.sub("", w) for w in title.split()]


def _phrases(title: str) -> set[tuple[str, ...]]:
    """A short title's single words and consecutive word pairs, letters only, as they were written (none for a
    longer title)."""
    words = _title_words(title)
    if len(words) > SHORT_WORDS:
        return set()
    singles = {(w,) for w in words if _WORD.match(w)}
    pairs = {(a, b) for a, b in zip(words, words[1:]) if _WORD.match(a) and _WORD.match(b)}
    return singles | pairs


def _key(phrase: tuple[str, ...]) -> str:
    return " ".join(NAME if w.lower() in _NAMES else w.lower() for w in phrase)


def _bare_templates() -> dict[str, set[str]]:
    """The classes whose templates are a phrase alone (names' slots counted as ``NAME``); terse titles, which say
    nothing without their notes, count as OTHER."""
    out: dict[str, set[str]] = defaultdict(set)
    slots = {"en_name", "en_surname", "ko_name"}  # as _title_words leaves "{en_name}"
    for (cat, _), templates in [*TEMPLATES.items(), (("OTHER", "terse"), TERSE_EN + TERSE_KO)]:
        for t in templates:
            words = tuple(NAME if w in slots else w for w in _title_words(t))
            if 1 <= len(words) <= 2:
                out[_key(words)].add(cat)
    return out


def shared_phrases(events: list[dict], *, min_titles: int = MIN_TITLES, max_share: float = MAX_SHARE
                   ) -> dict[str, tuple[float, ...]]:
    """Lower-cased words and word pairs of the events' titles that no class dominates, each with its class shares
    (in ``CATEGORIES`` order)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in events:
        for phrase in {_key(p) for p in _phrases(e["title"])}:
            counts[phrase][e["category"]] += 1
    bare = _bare_templates()
    out: dict[str, tuple[float, ...]] = {}
    for phrase, by_class in counts.items():
        total = sum(by_class.values())
        top = max(by_class.values()) / total
        alone = bare.get(phrase, set())
        if total < min_titles or alone - {"OTHER"} or is_contentless({"title": phrase}):
            continue
        if top <= max_share or (alone and top <= OTHER_MAX_SHARE):
            out[phrase] = tuple(by_class[c] / total for c in CATEGORIES)
    return out


@lru_cache(maxsize=4)
def _sources(seed: int, max_share: float) -> tuple[dict[str, tuple[float, ...]], dict[str, list[tuple[str, dict]]]]:
    """The shared phrases of a reference sample of generated events, and each one's uses (as written, event)."""
    reference = generate_events(_REFERENCE_EVENTS, seed=seed)
    shares = shared_phrases(reference, max_share=max_share)
    uses: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for e in reference:
        for p in _phrases(e["title"]):
            key = _key(p)
            if key in shares:
                uses[key].append((" ".join(p), e))
    return shares, dict(uses)


def generate_low_information_titles(n: int, seed: int = 7, *, max_share: float = MAX_SHARE) -> list[dict]:
    """n events titled by one shared word or word pair alone, with no description, location or attendees, each
    with its class shares under ``shares`` and the times of a generated event that used it, drawn as often as the
    generator uses them. ``max_share`` 0 keeps only what the generator gives alone to OTHER. Deterministic for
    (n, seed, max_share)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    shares, uses = _sources(seed + 1, max_share)
    # As often as the generator uses each phrase: a bare name is far more common than a bare "fwd".
    pool = [(key, title, source) for key in sorted(uses) for title, source in uses[key]]
    rng = random.Random(seed)
    out = []
    for _ in range(n if pool else 0):
        key, title, source = rng.choice(pool)
        out.append({"title": title, "startTime": source["startTime"], "endTime": source["endTime"],
                    "lang": "low_information", "shares": dict(zip(CATEGORIES, shares[key]))})
    return out
