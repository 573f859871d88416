"""The training-data generator: deterministic, well-formed, and as varied and noisy as real calendars."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from geulpi_tasks.data import generator as gen
from geulpi_tasks.data.generator import CATEGORIES, generate_events, split_events

N = 5000
REQUIRED = {"title", "startTime", "endTime", "category", "priority", "lang"}
OPTIONAL = {"description", "location", "attendees"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
HANGUL = re.compile(r"[가-힣]")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\U0001F1E6-\U0001F1FF]")
TARGETS = dict(zip(CATEGORIES, (0.28, 0.18, 0.15, 0.16, 0.14, 0.09)))


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return generate_events(N, seed=11)


def share(items, pred) -> float:
    items = list(items)
    return sum(1 for x in items if pred(x)) / len(items)


def test_same_seed_same_events_and_different_seed_differs():
    assert generate_events(400, seed=3) == generate_events(400, seed=3)
    assert generate_events(400, seed=3) != generate_events(400, seed=4)
    assert generate_events(0) == []
    with pytest.raises(ValueError):
        generate_events(-1)


def test_global_random_state_is_untouched():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate_events(50)
    assert random.random() == expected


def test_schema_and_absent_optional_keys(events):
    for e in events:
        assert REQUIRED <= e.keys() <= REQUIRED | OPTIONAL
        assert e["category"] in CATEGORIES and e["priority"] in ("HIGH", "MEDIUM", "LOW")
        assert e["lang"] in ("en", "ko", "mixed")
        assert isinstance(e["title"], str) and e["title"] == e["title"].strip() and e["title"]
        assert ISO.match(e["startTime"]) and ISO.match(e["endTime"])
        assert datetime.fromisoformat(e["endTime"]) >= datetime.fromisoformat(e["startTime"])
        for key in ("description", "location"):
            if key in e:
                assert isinstance(e[key], str) and e[key].strip() and e[key] != "None"
        if "attendees" in e:
            assert e["attendees"] and all(isinstance(a, str) and a.strip() for a in e["attendees"])
        assert "{" not in e["title"] and "None" not in e["title"]


def test_dates_span_about_a_year_from_start_date():
    first = date(2024, 3, 13)
    starts = [datetime.fromisoformat(e["startTime"]).date() for e in generate_events(2000, start_date=first)]
    assert min(starts) >= first and max(starts) <= first + timedelta(days=371)
    assert (max(starts) - min(starts)).days > 330


def test_category_mix_matches_targets(events):
    counts = Counter(e["category"] for e in events)
    for cat, target in TARGETS.items():
        assert abs(counts[cat] / N - target) < 0.03, (cat, counts[cat] / N)


def test_language_mix(events):
    assert 0.35 <= share(events, lambda e: HANGUL.search(e["title"])) <= 0.60
    langs = Counter(e["lang"] for e in events)
    for lang, target in (("en", 0.5), ("ko", 0.4), ("mixed", 0.1)):
        assert abs(langs[lang] / N - target) < 0.04
    mixed = [e["title"] for e in events if e["lang"] == "mixed"]
    assert share(mixed, lambda t: HANGUL.search(t) and re.search("[A-Za-z]", t)) > 0.9
    english = [e["title"] for e in events if e["lang"] == "en"]
    assert share(english, lambda t: HANGUL.search(t)) < 0.02


def test_titles_are_varied(events):
    titles = [e["title"] for e in events]
    assert len(set(titles)) / N >= 0.6
    for cat in CATEGORIES:  # no single wording dominates a class
        counts = Counter(e["title"].lower() for e in events if e["category"] == cat)
        assert counts.most_common(1)[0][1] / sum(counts.values()) < 0.05, cat
    assert share(titles, lambda t: len(t.split()) <= 2) > 0.2
    assert share(titles, lambda t: len(t) >= 35) > 0.01


def test_surface_noise_rates(events):
    titles = [e["title"] for e in events]
    assert 0.08 <= share(titles, EMOJI.search) <= 0.25
    assert share(titles, lambda t: re.search(r"\b(mtg|appt|w/|1on1|bday|pls|hw)\b|w/", t, re.I)) > 0.01
    english = [e["title"] for e in events if e["lang"] == "en" and re.search("[a-z]", e["title"], re.I)]
    assert share(english, lambda t: t.isupper()) > 0.01
    assert share(titles, lambda t: re.search(r"\d{1,2}(:\d\d)?\s?(am|pm)|\d+시", t)) > 0.01


def test_typos_are_applied_at_a_realistic_rate(monkeypatch):
    changed = []
    real = gen._typo

    def spy(rng, title, lang):
        out = real(rng, title, lang)
        changed.append(out != title)
        return out

    monkeypatch.setattr(gen, "_typo", spy)
    generate_events(3000, seed=5)
    assert 0.06 <= sum(changed) / 3000 <= 0.15


@pytest.mark.parametrize("title,lang", [("dentist appointment", "en"), ("weekly team meeting", "en"),
                                        ("병원 예약", "ko"), ("치과", "ko"), ("팀 sync 미팅", "mixed")])
def test_typo_changes_the_text(title, lang):
    rng = random.Random(0)
    outs = {gen._typo(rng, title, lang) for _ in range(30)}
    assert title not in outs and len(outs) > 3


def test_optional_fields_rates(events):
    assert 0.32 <= share(events, lambda e: "description" in e) <= 0.48
    assert 0.27 <= share(events, lambda e: "location" in e) <= 0.43
    assert 0.22 <= share(events, lambda e: "attendees" in e) <= 0.38
    with_people = [e for e in events if "attendees" in e]
    assert share(with_people, lambda e: e["category"] in ("WORK", "SOCIAL")) > 0.65


def test_priority_follows_visible_markers(events):
    priorities = Counter(e["priority"] for e in events)
    assert 0.08 <= priorities["HIGH"] / N <= 0.20
    assert 0.06 <= priorities["LOW"] / N <= 0.15
    for e in events:
        text = f"{e['title']} {e.get('description', '')}"
        if gen._HIGH_RE.search(text):
            assert e["priority"] == "HIGH", e
        elif gen._LOW_RE.search(text):
            assert e["priority"] == "LOW", e
    high = [e for e in events if e["priority"] == "HIGH"]
    assert share(high, lambda e: gen._HIGH_RE.search(f"{e['title']} {e.get('description', '')}")) > 0.9


def test_times_are_plausible_but_overlapping(events):
    def starts(cat):
        return [datetime.fromisoformat(e["startTime"]) for e in events if e["category"] == cat]

    assert share(starts("WORK"), lambda s: s.weekday() < 5) > 0.9
    assert share(starts("SOCIAL"), lambda s: s.weekday() >= 5 or s.hour >= 17) > 0.6
    assert share(starts("HEALTH"), lambda s: s.hour < 9 or s.hour >= 18) > 0.5
    assert 0.02 < share(starts("SOCIAL"), lambda s: 9 <= s.hour < 17 and s.weekday() < 5) < 0.4
    assert share([e for e in events], lambda e: int(e["startTime"][14:16]) % 5 == 0) > 0.95


def test_split_is_stratified_disjoint_deterministic_and_complete(events):
    train, val, test = split_events(events, seed=3)
    assert split_events(events, seed=3) == (train, val, test)
    assert split_events(events, seed=4) != (train, val, test)
    ids = [set(map(id, part)) for part in (train, val, test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert ids[0] | ids[1] | ids[2] == set(map(id, events))
    totals = Counter(e["category"] for e in events)
    for part, frac in ((val, 0.15), (test, 0.15), (train, 0.70)):
        counts = Counter(e["category"] for e in part)
        for cat in CATEGORIES:
            assert abs(counts[cat] - totals[cat] * frac) <= 1.5, (cat, frac)


def test_split_rejects_bad_fractions(events):
    with pytest.raises(ValueError):
        split_events(events, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError):
        split_events(events, val_fraction=-0.1)
