"""A batch answers exactly what single calls answer (issue 13's vectorised batch path), and every batch helper equals
the per-event code it replaces: event parsing, numeric features, tags, priority rules, word n-grams."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.features.event_features import (
    EventTexts,
    _numeric_row,
    event_text,
    normalize_text,
    numeric_features,
)
from geulpi_tasks.inference.classification import classify_events
from geulpi_tasks.models.event_classifier import ForestParams, RecipeParams, labelled_to_inputs, train_event_classifier
from geulpi_tasks.models.priority import predict_priorities, predict_priority, rule_priorities, rule_priority
from geulpi_tasks.models.runtime import FastTfidf, ServedClassifier, save_bundle
from geulpi_tasks.models.tags import suggest_tags, suggest_tags_batch, tag_text
from geulpi_tasks.schemas import CATEGORIES, Event, EventInput, input_error, parse_event, parse_events

DEV_FIT, DEV_HOLDOUT = split_dev(load_rows(SetRole.DEV))
_ODD_TITLES = ["URGENT!! 마감 review", "maybe yoga?", "  padded title  ", "dinner\nwith\tfriends", "🎂 생일 파티",
               "Google Meet sync 1:1", "fondue night", "ＦＵＬＬ　ＷＩＤＴＨ standup", "시간되면 헬스", "x" * 500,
               "EOD p0 blocker", "Σ ΟΔΟΣ", "a", "do laundry; pick up kids", "call mom/dad", "ﾃﾞｰﾄ ´e İstanbul ǅ"]


def _wire(e: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}


def _varied_wire(n: int, seed: int) -> list[dict[str, Any]]:
    """Generated events plus odd ones: padded/multi-line/long titles, urgency and tentative words, both scripts,
    all-day and midnight starts, attendee lists, ids of every kind, offsets and the 'Z' suffix."""
    rng = random.Random(seed)
    out = [_wire(e) for e in generate_events(n, seed=seed)]
    base = datetime(2024, 3, 9, 0, 0)
    for i, title in enumerate(_ODD_TITLES * 3):
        start = base + timedelta(days=i % 9, minutes=rng.choice([0, 30, 7 * 60 + 59, 22 * 60 + 15, 4 * 60]))
        end = start + timedelta(minutes=rng.choice([0, 15, 60, 12 * 60, 24 * 60, 3 * 24 * 60]))
        event: dict[str, Any] = {"title": title, "startTime": start.isoformat(), "endTime": end.isoformat()}
        if i % 2:
            event["description"] = rng.choice(["", "  notes ", "중요한 회의", "optional", None, "bring laptop!!",
                                               "\u3000", "\uff9e마감", "\u0301é ΣΑΣ", "ﬁnal ①"])
        if i % 3 == 0:
            event["location"] = rng.choice(["Room 4", " 강남역 ", None, "airport"])
        if i % 4 == 0:
            event["attendees"] = rng.choice([[], ["a@x.io"], ["a@x.io", "b@x.io"], [{"email": "c@x.io"}], None])
        if i % 5 == 0:
            event["eventId"] = rng.choice(["e-1", 42, None])
            event["userId"] = rng.choice(["u-1", 7, "u-2"])
        if i % 7 == 0:
            event["startTime"] += rng.choice(["Z", "+09:00", ""])
            event["endTime"] += "Z" if event["startTime"].endswith("Z") else (
                "+09:00" if event["startTime"].endswith("+09:00") else "")
        out.append(event)
    return out


def _full_check(payload: Any) -> Any:
    """What ``parse_event`` answered before its canonical fast path: the pydantic model alone."""
    try:
        return Event.model_validate(payload).to_input()
    except Exception as err:  # noqa: BLE001 - compared below as the InvalidInput it maps to
        mapped = input_error(err) if hasattr(err, "errors") else err
        return (type(mapped).__name__, str(mapped), getattr(mapped, "details", None))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> ServedClassifier:
    train, val, test = split_events(generate_events(3000, seed=5), seed=5)
    trained = train_event_classifier(train, val, test, seed=5, forest=ForestParams(n_estimators=30),
                                     recipe=RecipeParams(extra_weight=3.0), extra_rows=DEV_FIT,
                                     calibration_rows=DEV_HOLDOUT)
    bundle = save_bundle(trained, tmp_path_factory.mktemp("bundle") / "b")
    return ServedClassifier.load(bundle, name="event_classifier", version="t")


@pytest.fixture(scope="module")
def events() -> list[Any]:
    """Several hundred varied events: generated, odd ones, and the hand-labelled (realistic) dev sets."""
    parsed = []
    for payload in _varied_wire(250, seed=11):
        try:
            parsed.append(parse_event(payload))
        except InvalidInput:
            continue
    realistic, _ = labelled_to_inputs(load_rows(SetRole.DEV))
    return parsed + list(realistic)


def test_canonical_fast_path_parses_exactly_as_the_full_check() -> None:
    payloads: list[Any] = _varied_wire(300, seed=21)
    payloads += [None, [], "x", {"title": ""}, {"title": " "}, {"title": "x", "startTime": "2024-01-01T10:00:00"},
                 {"title": "x", "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T09:00:00"},
                 {"title": "x", "startTime": "2024-01-01T10:00:00", "endTime": "2026-01-01T09:00:00"},
                 {"title": "x", "startTime": " 2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00"},
                 {"title": "x", "startTime": "2024-01-01T10:00:00z", "endTime": "2024-01-01T11:00:00z"},
                 {"title": "x", "startTime": "2024-01-01", "endTime": "20240102T0900"},
                 {"title": "x", "startTime": "9999-12-31T10:00:00", "endTime": "9999-12-31T11:00:00"},
                 {"title": 5, "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00"},
                 {"title": "x", "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00",
                  "attendees": "a", "eventId": True, "userId": "", "requestId": "r" * 201, "description": 3},
                 {"title": "x", "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00",
                  "attendees": ["a"] * 1001},
                 {"title": "x", "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00",
                  "description": "d" * 5001, "extra": {"ignored": 1}, "category": "WORK"}]
    for payload in payloads:
        try:
            got: Any = parse_event(payload)
        except InvalidInput as err:
            got = (type(err).__name__, str(err), err.details)
        assert got == _full_check(payload), payload
        if isinstance(got, EventInput):  # built without __init__: every field set, nothing else
            assert vars(got) == {f.name: getattr(got, f.name) for f in fields(EventInput)}
            assert hash(got) == hash(_full_check(payload)) and repr(got) == repr(_full_check(payload))


def test_numeric_features_equal_the_per_event_rows_to_the_last_bit(events: list[Any]) -> None:
    expected = np.asarray([_numeric_row(e) for e in events], dtype=np.float64)
    assert np.array_equal(numeric_features(events), expected)
    assert numeric_features([]).shape == (0, expected.shape[1])


def test_shared_normalisation_equals_each_texts_own(events: list[Any]) -> None:
    texts = EventTexts(events)
    assert texts.model() == [event_text(e) for e in events]
    assert texts.tags() == [tag_text(e) for e in events]
    assert texts.rules() == [normalize_text(f"{e.title} {e.description}") for e in events]


def test_batch_tags_and_rules_equal_the_per_event_ones(events: list[Any]) -> None:
    rng = random.Random(3)
    categories = [rng.choice(CATEGORIES) for _ in events]
    urgent = [rng.random() < 0.3 for _ in events]
    assert suggest_tags_batch(events, categories, urgent) == [
        suggest_tags(e, c, urgent=u) for e, c, u in zip(events, categories, urgent)]
    assert rule_priorities(events) == [rule_priority(e) for e in events]
    learned = [rng.choice(["HIGH", "MEDIUM", "LOW", None]) for _ in events]
    assert predict_priorities(events, learned) == [predict_priority(e, p) for e, p in zip(events, learned)]


def test_word_ngrams_equal_scikit_learns_analyzer(served: ServedClassifier, events: list[Any]) -> None:
    words = [v for v in served._vectorizers if v.analyzer == "word"]
    assert words and all(v._tokens is not None for v in words)
    for vectorizer in words:
        slow = FastTfidf.__new__(FastTfidf)
        slow.__dict__.update(vectorizer.__dict__, _tokens=None)
        for text in [event_text(e) for e in events] + ["", "a b", "x_y z-w 42 한국어 문장!!"]:
            assert np.array_equal(np.sort(vectorizer._ids(text)), np.sort(slow._ids(text))), text


def test_a_batch_answers_what_single_calls_answer(served: ServedClassifier, events: list[Any]) -> None:
    assert len(events) >= 300
    batch = classify_events(served, events, review_threshold=0.7)
    singles = [classify_events(served, [e], review_threshold=0.7)[0] for e in events]
    assert len(batch) == len(singles)
    for got, want in zip(batch, singles):
        assert got.keys() == want.keys()
        assert {k: v for k, v in got.items() if k not in ("confidence", "probabilities")} == {
            k: v for k, v in want.items() if k not in ("confidence", "probabilities")}
        assert abs(got["confidence"] - want["confidence"]) <= 1e-6 + 1e-12
        assert got["probabilities"].keys() == want["probabilities"].keys()
        assert all(abs(got["probabilities"][c] - want["probabilities"][c]) <= 1e-6 + 1e-12 for c in served.classes)
    assert {r["priority"] for r in batch} == {"HIGH", "MEDIUM", "LOW"}
    assert any("urgent" in r["suggestedTags"] for r in batch) and any(r["needsReview"] for r in batch)


def test_parse_events_names_the_first_bad_event() -> None:
    good = _wire(generate_events(3, seed=1)[0])
    with pytest.raises(InvalidInput) as caught:
        parse_events([good, good, {**good, "endTime": "2000-01-01T00:00:00"}], max_count=10)
    assert caught.value.field == "events[2].endTime"
