"""Event classification as the API promises it: category, priority, calibrated confidence, review flag, tags."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from geulpi_tasks.features.event_features import EventTexts
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.models.tags import suggest_tags_batch
from geulpi_tasks.schemas import EventInput, Priority

_HIGH = Priority.HIGH.value


def classify_events(model: ServedClassifier, events: Sequence[EventInput], *, review_threshold: float,
                    explain: bool = False) -> list[dict[str, Any]]:
    """One vectorised prediction for all events; results in input order.

    ``confidence`` is the calibrated probability of the chosen class exactly as the model gives it. ``explain``
    adds each event's ``explanation`` (``models/explain.py``); without it nothing of the explainer runs or loads.
    """
    texts = EventTexts(events)
    probs, priorities = model.predict_with_priority(events, texts)
    if not len(events):
        return []
    classes = model.classes
    best = np.argmax(probs, axis=1).tolist()
    rows = probs.tolist()  # Python floats once for the batch; round() below is the same rounding as per value
    categories = [classes[i] for i in best]
    tags = suggest_tags_batch(events, categories, [p == _HIGH for p in priorities], texts.tags())
    name, version = model.name, model.version
    results = []
    for event, row, idx, category, priority, event_tags in zip(events, rows, best, categories, priorities, tags):
        confidence = row[idx]
        results.append({
            "eventId": event.event_id,
            "eventType": category,
            "priority": priority,
            "confidence": round(confidence, 6),
            "needsReview": confidence < review_threshold,
            "suggestedTags": event_tags,
            "probabilities": dict(zip(classes, [round(p, 6) for p in row])),
            "modelName": name,
            "modelVersion": version,
        })
    if explain:
        for result, explanation in zip(results, model.explain(events)):
            result["explanation"] = explanation
    return results
