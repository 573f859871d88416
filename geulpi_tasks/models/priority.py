"""Priority: a learned model for what the event is, wrapped by the rule book's two hard rules (LABELS.md).

* urgency words ("urgent", "asap", "deadline", "마감", "긴급", "!!"...) always give HIGH;
* tentative words ("maybe", "optional", "가능하면", "시간되면"...) give LOW unless an urgency word is also present;
* between those, priority depends on the category and on what the event is (an exam is HIGH, a workout LOW, a
  regular meeting MEDIUM), so it is learned: ``PriorityClassifier`` is a multinomial logistic regression on the
  event's TF-IDF text features (the category model's own vectorizer, so serving pays one extra sparse product), the
  category, and the time/duration numbers. Trainable from generated events and from feedback rows carrying a
  "priority".

``predict_priority(event)`` without a model keeps the old rule-only behaviour (MEDIUM when no word decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression

from geulpi_tasks.features.event_features import JoinedTexts, MarkerSet, normalize_text, numeric_features
from geulpi_tasks.schemas import CATEGORIES, EventInput, Priority

HIGH_MARKERS: tuple[str, ...] = (
    "urgent", "asap", "a.s.a.p", "deadline", "critical", "important", "due", "must", "emergency", "high priority",
    "top priority", "do not miss", "don't miss", "dont miss", "dont be late", "don't be late",
    "p0", "p1", "blocker", "eod",
    "긴급", "급함", "급해", "마감", "중요", "필수", "반드시", "꼭", "데드라인", "비상", "오늘까지", "기한",
)
LOW_MARKERS: tuple[str, ...] = (
    "optional", "maybe", "tentative", "if time", "if possible", "someday", "fyi", "low priority", "nice to have",
    "선택", "여유되면", "가능하면", "시간되면", "아마", "혹시", "갈수도",
)
_HIGH = MarkerSet(HIGH_MARKERS)
_LOW = MarkerSet(LOW_MARKERS)
PRIORITIES: tuple[str, ...] = ("HIGH", "MEDIUM", "LOW")


def rule_priority(event: EventInput) -> Priority | None:
    """The hard rules alone: HIGH on an urgency word or "!!", LOW on a tentative word, None when no word decides."""
    text = normalize_text(f"{event.title} {event.description}")
    if _HIGH.any_in(text) or "!!" in text:
        return Priority.HIGH
    if _LOW.any_in(text):
        return Priority.LOW
    return None


def rule_priorities(events: Sequence[EventInput], texts: Sequence[str] | None = None) -> list[Priority | None]:
    """``rule_priority`` of every event, each marker set scanning the batch's texts once (``MarkerSet.found_in``).
    ``texts``: the events' ``EventTexts.rules()`` when the caller has them."""
    if texts is None:
        texts = [normalize_text(f"{e.title} {e.description}") for e in events]
    joined = JoinedTexts(texts)
    high = _HIGH.found_in(joined) | np.fromiter(("!!" in t for t in texts), dtype=bool, count=len(texts))
    low = _LOW.found_in(joined)
    return [Priority.HIGH if h else (Priority.LOW if lo else None) for h, lo in zip(high.tolist(), low.tolist())]


def predict_priorities(events: Sequence[EventInput], learned: Sequence[Priority | str | None],
                       texts: Sequence[str] | None = None) -> list[Priority]:
    """``predict_priority`` of every event with its learned priority, the rules looked up for the batch at once."""
    return [ruled if ruled is not None else (Priority(p) if p is not None else Priority.MEDIUM)
            for ruled, p in zip(rule_priorities(events, texts), learned)]


def predict_priority(event: EventInput, learned: Priority | str | None = None) -> Priority:
    """The rules wrapped around the learned priority (``learned``); MEDIUM when neither decides."""
    ruled = rule_priority(event)
    if ruled is not None:
        return ruled
    return Priority(learned) if learned is not None else Priority.MEDIUM


@dataclass
class PriorityClassifier:
    """Linear model over [text TF-IDF | category one-hot | standardised time numbers] → (HIGH, MEDIUM, LOW).

    Stored as plain arrays (no scikit-learn object) so the served path is a few NumPy products.
    """

    coef_text: np.ndarray      # (n_text_features, 3)
    coef_rest: np.ndarray      # (n_categories + n_numeric, 3)
    intercept: np.ndarray      # (3,)
    numeric_mean: np.ndarray
    numeric_scale: np.ndarray
    classes: tuple[str, ...] = PRIORITIES
    categories: tuple[str, ...] = CATEGORIES

    def _rest(self, events: Sequence[EventInput], category_idx: np.ndarray, numeric: np.ndarray | None = None
              ) -> np.ndarray:
        """``numeric``: the events' ``numeric_features`` when the caller has them already."""
        onehot = np.zeros((len(events), len(self.categories)))
        onehot[np.arange(len(events)), category_idx] = 1.0
        num = ((numeric_features(events) if numeric is None else numeric) - self.numeric_mean) / self.numeric_scale
        return np.hstack([onehot, num])

    def logits(self, x_text: Any, events: Sequence[EventInput], category_idx: np.ndarray) -> np.ndarray:
        """``x_text``: the category vectorizer's sparse TF-IDF rows for ``events``."""
        return np.asarray(x_text @ self.coef_text) + self._rest(events, category_idx) @ self.coef_rest + self.intercept

    def learned(self, x_text: Any, events: Sequence[EventInput], category_idx: np.ndarray) -> list[str]:
        """The learned priority alone, before the rules."""
        return [self.classes[i] for i in self.logits(x_text, events, category_idx).argmax(axis=1)]

    def predict(self, x_text: Any, events: Sequence[EventInput], category_idx: np.ndarray) -> list[str]:
        """Final priorities: the rules wrapped around the learned model."""
        return [predict_priority(e, p).value for e, p in zip(events, self.learned(x_text, events, category_idx))]

    def to_arrays(self) -> dict[str, Any]:
        return {"coef_text": self.coef_text.astype(np.float32), "coef_rest": self.coef_rest,
                "intercept": self.intercept, "numeric_mean": self.numeric_mean, "numeric_scale": self.numeric_scale,
                "classes": list(self.classes), "categories": list(self.categories)}

    @classmethod
    def from_arrays(cls, d: dict[str, Any]) -> "PriorityClassifier":
        return cls(coef_text=np.asarray(d["coef_text"], dtype=np.float64), coef_rest=np.asarray(d["coef_rest"]),
                   intercept=np.asarray(d["intercept"]), numeric_mean=np.asarray(d["numeric_mean"]),
                   numeric_scale=np.asarray(d["numeric_scale"]), classes=tuple(d["classes"]),
                   categories=tuple(d["categories"]))


def train_priority_classifier(x_text: Any, events: Sequence[EventInput], categories: Sequence[str],
                              priorities: Sequence[str], *, sample_weight: np.ndarray | None = None,
                              c: float = 4.0, seed: int = 7) -> PriorityClassifier:
    """Fit on rows carrying a priority (generated events, feedback). ``categories`` are the rows' own labels (at
    serving time the predicted category takes their place); ``x_text`` the category vectorizer's TF-IDF rows.

    Rows whose text carries an urgency or tentative word are left out: the rules answer those, and keeping them
    would teach the model the words instead of the events."""

    keep = np.array([rule_priority(e) is None for e in events])
    if keep.sum() < 10 or len({p for p, k in zip(priorities, keep) if k}) < 2:
        raise ValueError("too few rows without an urgency/tentative word to learn priority from")
    idx = [int(i) for i in np.flatnonzero(keep)]
    ev = [events[i] for i in idx]
    cat_idx = np.array([CATEGORIES.index(categories[i]) for i in idx])
    y = np.array([PRIORITIES.index(priorities[i]) for i in idx])
    num = numeric_features(ev)
    mean, scale = num.mean(axis=0), num.std(axis=0) + 1e-6
    model = PriorityClassifier(coef_text=np.zeros((x_text.shape[1], 3)), coef_rest=np.zeros((len(CATEGORIES) +
                               num.shape[1], 3)), intercept=np.zeros(3), numeric_mean=mean, numeric_scale=scale)
    rest = model._rest(ev, cat_idx)
    x = hstack([csr_matrix(x_text)[idx], csr_matrix(rest)]).tocsr()
    lr = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    lr.fit(x, y, sample_weight=None if sample_weight is None else np.asarray(sample_weight)[idx])
    coef = np.zeros((3, x.shape[1]))
    coef[lr.classes_] = lr.coef_
    intercept = np.full(3, -1e3)
    intercept[lr.classes_] = lr.intercept_
    n_text = x_text.shape[1]
    model.coef_text, model.coef_rest, model.intercept = coef[:, :n_text].T.copy(), coef[:, n_text:].T.copy(), intercept
    return model
