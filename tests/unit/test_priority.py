"""Priority: the rule book's hard rules wrap the learned model."""

import numpy as np
from scipy.sparse import csr_matrix

from geulpi_tasks.models.priority import PriorityClassifier, predict_priority, rule_priority, train_priority_classifier
from geulpi_tasks.schemas import Priority, parse_event


def _event(title, start="2025-03-04T10:00:00", end="2025-03-04T11:00:00"):
    return parse_event({"title": title, "startTime": start, "endTime": end})


def test_urgency_words_force_high_and_tentative_words_give_low_unless_urgent():
    assert predict_priority(_event("gym ASAP"), "LOW") is Priority.HIGH
    assert predict_priority(_event("과제 마감"), "LOW") is Priority.HIGH
    assert predict_priority(_event("yoga maybe"), "HIGH") is Priority.LOW
    assert predict_priority(_event("시간되면 러닝"), "MEDIUM") is Priority.LOW
    assert predict_priority(_event("maybe the urgent one"), "LOW") is Priority.HIGH
    assert rule_priority(_event("standup")) is None
    assert predict_priority(_event("standup"), "LOW") is Priority.LOW
    assert predict_priority(_event("standup")) is Priority.MEDIUM  # no model: the old rule-only answer


def test_priority_classifier_learns_from_category_and_round_trips():
    titles = ["exam", "chores", "meeting"] * 20
    cats = ["LEARNING", "PERSONAL", "WORK"] * 20
    prios = ["HIGH", "LOW", "MEDIUM"] * 20
    events = [_event(t) for t in titles]
    x_text = csr_matrix(np.zeros((len(events), 4)))  # no text signal: the category must carry it
    model = train_priority_classifier(x_text, events, cats, prios)
    cat_idx = np.array([("WORK", "PERSONAL", "HEALTH", "SOCIAL", "LEARNING", "OTHER").index(c) for c in cats])
    assert model.predict(x_text, events, cat_idx) == prios
    again = PriorityClassifier.from_arrays(model.to_arrays())
    assert again.predict(x_text, events, cat_idx) == prios
