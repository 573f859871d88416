"""Phase 2 of a training job: the text model, and the stage-2 matrices every search trial reads."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.features.event_features import event_text, numeric_features
from geulpi_tasks.models.event_classifier import (
    RecipeParams,
    TextParams,
    build_vectorizer,
    smoothing_labels,
    vague_training_rows,
)
from geulpi_tasks.models.priority import PRIORITIES, PriorityClassifier, train_priority_classifier
from geulpi_tasks.optimization.search import Stage2Data
from geulpi_tasks.schemas import CATEGORIES, parse_event


class TextStage(NamedTuple):
    vectorizer: Any
    text_model: LogisticRegression
    data: Stage2Data


def fit_text_stage(train: Sequence[dict], val: Sequence[dict], test: Sequence[dict], *, label: str,
                   classes: tuple[str, ...], seed: int) -> TextStage:
    """Fit the char/word TF-IDF + logistic regression on train and build the stage-2 matrices (out-of-fold text
    probabilities on train, so stage 2 learns how far to trust the text model on unseen text). Each training row
    counts with its ``weight`` (default 1); rows with ``source: "realistic"`` are marked for the search to score on.

    Raises InvalidInput when a label has fewer than two training events.
    """
    text = TextParams()
    parts = [([parse_event(r) for r in rows], np.asarray([classes.index(r[label]) for r in rows], dtype=np.int64))
             for rows in (train, val, test)]
    (tr_events, y_tr), (va_events, y_va), (te_events, y_te) = parts
    # Every class must be learnable: stage 2 and the metrics have one column per class of the model type.
    counts = np.bincount(y_tr, minlength=len(classes))
    scarce = [c for c, n in zip(classes, counts) if n < 2]
    if scarce:
        raise InvalidInput(f"Every label needs at least two training events; too few for {', '.join(scarce)}.",
                           field="training_data")
    weights = np.asarray([float(r.get("weight", 1.0)) for r in train])
    realistic = np.asarray([r.get("source") == "realistic" for r in train], dtype=bool)
    if label == "category" and tuple(classes) == tuple(CATEGORIES):
        # Contentless titles ("a", "asdf", "???") taught as a spread-out target, so they get a low confidence.
        recipe = RecipeParams()
        vague_events, y_vague, w_vague = vague_training_rows(recipe.vague_rows, seed, recipe.vague_weight)
        tr_events = tr_events + vague_events
        y_tr = np.r_[y_tr, y_vague].astype(np.int64)
        weights = np.r_[weights, w_vague]
        realistic = np.r_[realistic, np.zeros(len(y_vague), dtype=bool)]
        # Generated rows are label-smoothed as in the first model's recipe (RecipeParams.generated_smoothing).
        generated = np.flatnonzero([r.get("source") == "generated" for r in train])
        if recipe.generated_smoothing > 0 and len(generated):
            tr_events = tr_events + [tr_events[i] for i in generated]
            y_tr = np.r_[y_tr, smoothing_labels(y_tr[generated], len(classes), seed)].astype(np.int64)
            weights = np.r_[weights, np.full(len(generated), recipe.generated_smoothing)]
            realistic = np.r_[realistic, np.zeros(len(generated), dtype=bool)]
    vectorizer = build_vectorizer(text)
    x_text = vectorizer.fit_transform([event_text(e) for e in tr_events])
    text_model = LogisticRegression(C=text.c, max_iter=3000, random_state=seed)
    n_splits = int(min(5, np.bincount(y_tr, minlength=len(classes)).min()))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    oof = cross_val_predict(text_model, x_text, y_tr, cv=folds, method="predict_proba",
                            params={"sample_weight": weights})
    text_model.fit(x_text, y_tr, sample_weight=weights)
    oof_full = _full_columns(oof, text_model.classes_, len(classes))
    data = Stage2Data(x_train=np.hstack([oof_full, numeric_features(tr_events)]), y_train=y_tr,
                      x_val=_stage2(vectorizer, text_model, va_events, len(classes)), y_val=y_va,
                      x_test=_stage2(vectorizer, text_model, te_events, len(classes)), y_test=y_te,
                      n_classes=len(classes), w_train=weights, realistic_train=realistic)
    return TextStage(vectorizer, text_model, data)


def stage2_features(text: TextStage, rows: Sequence[dict], *, label: str, classes: tuple[str, ...]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(stage-2 inputs, label indices) of labelled rows the text stage never saw, e.g. a calibration holdout."""
    events = [parse_event(r) for r in rows]
    y = np.asarray([classes.index(r[label]) for r in rows], dtype=np.int64)
    return _stage2(text.vectorizer, text.text_model, events, len(classes)), y


def _stage2(vectorizer: Any, text_model: LogisticRegression, events: list, n_classes: int) -> np.ndarray:
    probs = text_model.predict_proba(vectorizer.transform([event_text(e) for e in events]))
    return np.hstack([_full_columns(probs, text_model.classes_, n_classes), numeric_features(events)])


def _full_columns(probs: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((probs.shape[0], n_classes))
    out[:, present] = probs
    return out


def fit_priority_model(text: TextStage, train: Sequence[dict], *, seed: int) -> PriorityClassifier | None:
    """The learned priority model beside the category model, on the same text features: fitted on training rows
    that carry a priority (generated, realistic and feedback rows, with their weights). None when too few rows
    are left once the rules' own words are set aside."""
    rows = [r for r in train if r.get("priority") in PRIORITIES and r.get("category") in CATEGORIES]
    if not rows:
        return None
    events = [parse_event(r) for r in rows]
    x_text = text.vectorizer.transform([event_text(e) for e in events])
    try:
        return train_priority_classifier(x_text, events, [r["category"] for r in rows], [r["priority"] for r in rows],
                                         sample_weight=np.asarray([float(r.get("weight", 1.0)) for r in rows]),
                                         c=RecipeParams().priority_c, seed=seed)
    except ValueError:  # the rules answer (nearly) every row: nothing left to learn from
        return None
