"""The training-data generator: deterministic, well-formed, and as varied and noisy as real calendars."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from geulpi_tasks.data import generator as gen
from geulpi_tasks.data.generator import CATEGORIES, generate_events, is_contentless, split_events

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


def test_priority_follows_markers_then_the_event(events):
    # LABELS.md: urgency words always give HIGH; tentative words give LOW unless urgent; otherwise what the event is
    # decides (so unmarked events are spread over all three levels, not all MEDIUM).
    priorities = Counter(e["priority"] for e in events)
    assert 0.12 <= priorities["HIGH"] / N <= 0.30
    assert 0.25 <= priorities["LOW"] / N <= 0.45
    assert 0.30 <= priorities["MEDIUM"] / N <= 0.55
    for e in events:
        text = f"{e['title']} {e.get('description', '')}"
        if gen._HIGH_RE.search(text):
            assert e["priority"] == "HIGH", e
        elif gen._LOW_RE.search(text):
            assert e["priority"] == "LOW", e
    unmarked = [e for e in events if not gen._HIGH_RE.search(f"{e['title']} {e.get('description', '')}")
                and not gen._LOW_RE.search(f"{e['title']} {e.get('description', '')}")]
    for cat in CATEGORIES:  # every category uses more than one level once markers are set aside
        assert len({e["priority"] for e in unmarked if e["category"] == cat}) >= 2, cat
    by_cat = Counter((e["category"], e["priority"]) for e in unmarked)
    assert by_cat[("OTHER", "LOW")] > by_cat[("OTHER", "MEDIUM")] + by_cat[("OTHER", "HIGH")]
    assert by_cat[("WORK", "MEDIUM")] > by_cat[("WORK", "LOW")]


@pytest.mark.parametrize("cat,template,expected", [
    ("LEARNING", "AWS certification exam", "HIGH"), ("LEARNING", "{en_exam} prep", "LOW"),
    ("LEARNING", "piano lesson", "MEDIUM"), ("LEARNING", "online course", "LOW"),
    ("HEALTH", "gym", "LOW"), ("HEALTH", "dentist", "MEDIUM"), ("HEALTH", "MRI", "HIGH"),
    ("PERSONAL", "laundry", "LOW"), ("PERSONAL", "DMV appointment", "MEDIUM"),
    ("WORK", "standup", "MEDIUM"), ("WORK", "client call - {en_company}", "HIGH"),
    ("WORK", "update Jira tickets", "LOW"),
    ("OTHER", "hold", "LOW"), ("OTHER", "flight home", "HIGH"), ("SOCIAL", "dinner with friends", "MEDIUM"),
])
def test_event_priority_follows_the_rule_book(cat, template, expected):
    assert gen._event_priority(cat, template, template) == expected


def _labelled(events, pattern):
    return Counter(e["category"] for e in events if re.search(pattern, e["title"], re.I))


def test_labels_follow_the_rule_book():
    # LABELS.md's hard cases: each wording always gets the rule book's category.
    events = generate_events(20000, seed=2)
    for pattern, expected in ((r"visit grandma|call mom|할머니 ?댁|엄마한테 전화", "SOCIAL"),
                              (r"^flight home|KTX 이동|^train home", "OTHER"),
                              (r"certification exam|자격증 시험$", "LEARNING"),
                              (r"renew gym membership|헬스장 재등록|vet appointment|동물병원", "PERSONAL"),
                              (r"^church$|주일 예배|봉사활동", "SOCIAL"), (r"^(팀 )?회식$|team dinner", "WORK"),
                              (r"^teach ", "WORK"), (r"^(OOO|PTO|연차|Do not book)$", "OTHER")):
        counts = _labelled(events, pattern)
        assert counts and set(counts) == {expected}, (pattern, counts)


def test_vague_titles_are_deterministic_and_contentless():
    vague = gen.generate_vague_titles(300, seed=1)
    assert vague == gen.generate_vague_titles(300, seed=1) != gen.generate_vague_titles(300, seed=2)
    assert all(v["title"] and "category" not in v and v["lang"] == "vague" for v in vague)
    assert all(len(v["title"]) <= 12 for v in vague)
    assert {"a", "asdf", "???"} & {v["title"] for v in vague}
    labelled = {e["title"].lower() for e in generate_events(5000, seed=11)}
    assert not {"a", "asdf", "???", "?", "x", "ㅋㅋ", "."} & labelled  # no longer taught as confident OTHER


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


@pytest.mark.parametrize("title, contentless", [
    ("a", True), ("asdf", True), ("asdf ㅋㅋ", True), ("???", True), ("ㅋㅋ", True), ("😊", True), ("meeting?", True),
    ("gym", False), ("치과", False), ("OOO", False), ("F45", False), ("gym ㅋㅋ", False), ("물 2L", False)])
def test_contentless_titles_are_recognised(title, contentless):
    assert is_contentless({"title": title}) is contentless
    # A description or location gives the event a meaning.
    assert is_contentless({"title": title, "location": "Seoul National Univ. Dental Hospital"}) is False
