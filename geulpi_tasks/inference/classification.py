"""Event classification as the API promises it: category, priority, calibrated confidence, review flag, tags."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.models.tags import suggest_tags
from geulpi_tasks.schemas import EventInput, Priority


def classify_events(model: ServedClassifier, events: Sequence[EventInput], *, review_threshold: float,
                    explain: bool = False) -> list[dict[str, Any]]:
    """One vectorised prediction for all events; results in input order.

    ``confidence`` is the calibrated probability of the chosen class exactly as the model gives it. ``explain``
    adds each event's ``explanation`` (``models/explain.py``); without it nothing of the explainer runs or loads.
    """
    probs, priorities = model.predict_with_priority(events)
    best = np.argmax(probs, axis=1) if len(events) else np.zeros(0, dtype=int)
    results = []
    for event, row, idx, learned in zip(events, probs, best, priorities):
        category = model.classes[int(idx)]
        confidence = float(row[idx])
        priority = Priority(learned)
        results.append({
            "eventId": event.event_id,
            "eventType": category,
            "priority": priority.value,
            "confidence": round(confidence, 6),
            "needsReview": confidence < review_threshold,
            "suggestedTags": suggest_tags(event, category, urgent=priority is Priority.HIGH),
            "probabilities": {c: round(float(p), 6) for c, p in zip(model.classes, row)},
            "modelName": model.name,
            "modelVersion": model.version,
        })
    if explain:
        for result, explanation in zip(results, model.explain(events)):
            result["explanation"] = explanation
    return results
