"""Short titles several classes share: which ones, their class shares, and how a trainer is taught them."""

import numpy as np
import pytest

from geulpi_tasks.data.generator import CATEGORIES
from geulpi_tasks.data.low_information import generate_low_information_titles, shared_phrases
from geulpi_tasks.models.event_classifier import VAGUE_OTHER_SHARE, low_information_training_rows


def _rows(title, category, n):
    return [{"title": title, "category": category}] * n


def test_a_phrase_is_shared_when_no_class_dominates_its_short_titles():
    events = (_rows("client lunch", "WORK", 10) + _rows("lunch w/ Sarah", "SOCIAL", 10)
              + _rows("standup", "WORK", 20) + _rows("gym", "HEALTH", 10)
              + _rows("renew gym membership", "PERSONAL", 10)
              + _rows("dinner with the whole extended family", "SOCIAL", 20))
    shares = shared_phrases(events, min_titles=5, max_share=0.6)
    assert shares["lunch"] == pytest.approx(tuple(0.5 if c in ("WORK", "SOCIAL") else 0.0 for c in CATEGORIES))
    assert "standup" not in shares  # one class only
    assert "gym" not in shares  # a template gives "gym" alone to HEALTH
    assert "dinner" not in shares  # only in a long title, where other words decide


def test_person_names_are_counted_as_one_lexicon():
    events = _rows("Sarah", "OTHER", 4) + _rows("call Tom", "WORK", 4) + _rows("Jane + me", "SOCIAL", 4)
    assert "{name}" in shared_phrases(events, min_titles=10, max_share=0.6)


def test_low_information_titles_are_deterministic_bare_and_spread():
    rows = generate_low_information_titles(200, seed=1)
    assert rows == generate_low_information_titles(200, seed=1) != generate_low_information_titles(200, seed=2)
    assert all(len(r["title"].split()) <= 2 and "description" not in r and "location" not in r for r in rows)
    assert all(sum(r["shares"].values()) == pytest.approx(1.0) for r in rows)
    assert all(max(r["shares"].values()) <= 0.9 for r in rows)
    assert not {"gym", "dentist", "standup"} & {r["title"].lower() for r in rows}


def test_low_information_rows_are_a_soft_target_leaning_to_other():
    events, y, w = low_information_training_rows(50, seed=1, weight=2.0)
    k = len(CATEGORIES)
    assert len(events) == len(y) == len(w) == 50 * k
    per_event = w.reshape(50, k)
    assert np.allclose(per_event.sum(axis=1), 2.0)
    assert (per_event[:, CATEGORIES.index("OTHER")] >= 2.0 * VAGUE_OTHER_SHARE - 1e-9).all()
    assert (per_event.max(axis=1) < 2.0 * 0.95).all()
