"""Fill in the categories the caller left out, so an analysis sees every event in a category.

The analyses take categories as given; events without one are classified here by the served model in one
vectorised call, and the caller's own categories are never overridden.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, Sequence

import numpy as np

from geulpi_tasks.schemas import Category, EventInput


class CategoryModel(Protocol):
    """What ``fill_categories`` needs from a classifier (``models.runtime.ServedClassifier`` provides it)."""

    classes: tuple[str, ...]

    def predict_proba(self, events: Sequence[EventInput]) -> np.ndarray: ...


def count_uncategorized(events: Sequence[EventInput]) -> int:
    """How many events have no category, i.e. whether a model is needed at all."""
    return sum(1 for e in events if e.category is None)


def fill_categories(model: CategoryModel, events: Sequence[EventInput]) -> tuple[tuple[EventInput, ...], int]:
    """The events in input order with every missing category set to the model's most probable class, and how many
    were filled. Events that already have a category are returned unchanged; ``predict_proba`` is called once
    (and not at all when nothing is missing)."""
    missing = [i for i, e in enumerate(events) if e.category is None]
    if not missing:
        return tuple(events), 0
    probs = model.predict_proba([events[i] for i in missing])
    best = np.argmax(probs, axis=1)
    filled = list(events)
    for i, idx in zip(missing, best, strict=True):
        filled[i] = dataclasses.replace(events[i], category=Category(model.classes[int(idx)]))
    return tuple(filled), len(missing)
