"""The real-world yardstick: hand-labelled sets with pinned fingerprints, and a frozen test set kept apart."""

from __future__ import annotations

from collections import Counter

import pytest

from geulpi_tasks.data import labelled_sets
from geulpi_tasks.data.labelled_sets import SETS, SetRole, file_sha256, load_rows, split_dev
from geulpi_tasks.schemas import CATEGORIES, Priority, parse_event

# Written here as well as in labelled_sets.py: changing the frozen set takes two deliberate edits.
FROZEN_TEST_SHA256 = "6a8d8f39cade266e4c59b6e3fc9270dd247bc4694564d4ace64682a319a867b5"


def _text(row: dict) -> tuple:
    return tuple(row.get(k) for k in ("title", "description", "location", "startTime", "endTime"))


def test_the_frozen_test_set_is_unchanged():
    spec = next(s for s in SETS if s.role is SetRole.TEST)
    assert file_sha256(spec.path) == FROZEN_TEST_SHA256 == spec.sha256


def test_every_set_matches_its_pin_and_a_changed_file_is_refused(tmp_path, monkeypatch):
    for spec in SETS:
        assert file_sha256(spec.path) == spec.sha256, spec.name
    copy = tmp_path / "dev_1.jsonl"
    copy.write_bytes(next(s for s in SETS if s.name == "dev_1").path.read_bytes() + b"\n{}")
    monkeypatch.setattr(labelled_sets, "REALISTIC_DIR", tmp_path)
    labelled_sets._load.cache_clear()
    try:
        with pytest.raises(ValueError, match="changed"):
            labelled_sets._load("dev_1")
    finally:
        labelled_sets._load.cache_clear()


def test_the_test_set_is_large_balanced_and_bilingual():
    rows = load_rows(SetRole.TEST)
    assert len(rows) >= 600
    per_class = Counter(r["category"] for r in rows)
    assert set(per_class) == set(CATEGORIES) and min(per_class.values()) >= 100
    langs = Counter(r["lang"] for r in rows)
    assert 0.50 <= langs["en"] / len(rows) <= 0.60 and 0.30 <= langs["ko"] / len(rows) <= 0.40
    assert 0.05 <= langs["mixed"] / len(rows) <= 0.15


def test_every_row_parses_and_carries_both_labels():
    valid = {p.value for p in Priority}
    for row in load_rows(SetRole.DEV) + load_rows(SetRole.TEST):
        parse_event(row)
        assert row["category"] in CATEGORIES and row["priority"] in valid, row


def test_no_test_event_is_also_a_dev_event():
    dev = {_text(r) for r in load_rows(SetRole.DEV)}
    assert [r["title"] for r in load_rows(SetRole.TEST) if _text(r) in dev] == []


def test_the_dev_holdout_is_stable_and_keeps_repeated_texts_together():
    rows = load_rows(SetRole.DEV)
    fit, holdout = split_dev(rows)
    assert len(fit) + len(holdout) == len(rows) and 0.2 < len(holdout) / len(rows) < 0.4
    again_fit, again_holdout = split_dev(list(reversed(rows)))
    assert sorted(map(_text, holdout)) == sorted(map(_text, again_holdout))
    titles_fit = {(r["title"], r.get("description"), r.get("location")) for r in fit}
    assert not [r for r in holdout if (r["title"], r.get("description"), r.get("location")) in titles_fit]
