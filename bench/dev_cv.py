"""Choose the classifier recipe on the dev sets only: grouped K-fold cross-validation over the hand-labelled dev
rows, each fold trained exactly as a fresh system trains (generated rows + dev rows weighted, a calibration share of
dev), and measured on the dev rows it never saw. The frozen test set is never read here.

Folds are groups of the same stable text hash ``split_dev`` uses, so a repeated text never straddles fit and eval.
For fold k: eval = fold k, calibration = fold k+1, fit = the rest.

    python -m bench.dev_cv [--samples N] [--folds K] [--recipe key=value ...] [--errors]

Every run also reports per information group (``information_group``: contentless, a bare clock time, one word,
two words, longer, or with a description/location), since confident errors gather on titles that say little.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import fields
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from geulpi_tasks.data.generator import generate_events, is_contentless, split_events
from geulpi_tasks.data.labelled_sets import SetRole, _holdout_key, load_rows
from geulpi_tasks.models.event_classifier import (
    ForestParams,
    RecipeParams,
    TextParams,
    expected_calibration_error,
    labelled_to_inputs,
    train_event_classifier,
)
from geulpi_tasks.models.realistic_eval import CONFIDENT
from geulpi_tasks.schemas import CATEGORIES
from geulpi_tasks.training.data import REALISTIC_WEIGHT


def _parse_overrides(items: list[str], cls: type) -> dict[str, Any]:
    names = {f.name: f.type for f in fields(cls)}
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in names:
            continue
        out[key] = json.loads(value) if value[:1] in "0123456789-[{tf" else value
    return out


_CLOCK = re.compile(r"^(오전|오후)?\s*\d{1,2}([:.]\d{2})?\s*(am|pm|a|p|시|시반)?\??$", re.I)
INFORMATION_GROUPS = ("contentless", "bare_time", "one_word", "two_words", "longer", "has_notes")


def information_group(row: dict[str, Any]) -> str:
    """How much an event says: the groups the per-group report splits the dev rows into (titles with no
    description or location by word count, after contentless titles and bare clock times)."""
    if (row.get("description") or "").strip() or (row.get("location") or "").strip():
        return "has_notes"
    if is_contentless(row):
        return "contentless"
    title = str(row.get("title") or "").strip()
    if _CLOCK.match(title):
        return "bare_time"
    words = len(title.split())
    return "one_word" if words == 1 else "two_words" if words == 2 else "longer"


def group_report(rows: list[dict[str, Any]], probs: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float]]:
    """Per information group: rows, accuracy, mean confidence, share wrong at >= CONFIDENT (of the group and, as
    a count, of all rows) and ECE."""
    groups = np.asarray([information_group(r) for r in rows])
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    out: dict[str, dict[str, float]] = {}
    for name in INFORMATION_GROUPS:
        m = groups == name
        if not m.any():
            continue
        out[name] = {"rows": int(m.sum()), "accuracy": round(float(np.mean(pred[m] == y[m])), 4),
                     "mean_confidence": round(float(conf[m].mean()), 4),
                     "share_at_95": round(float(np.mean(conf[m] >= CONFIDENT)), 4),
                     "wrong_at_95": int(np.sum((pred[m] != y[m]) & (conf[m] >= CONFIDENT))),
                     "ece": round(expected_calibration_error(probs[m], y[m]), 4)}
    return out


def run(samples: int, folds: int, seed: int, overrides: list[str], show_errors: bool,
        dump_path: str | None = None) -> dict[str, Any]:
    dev = load_rows(SetRole.DEV)
    group = np.asarray([min(int(_holdout_key(r) * folds), folds - 1) for r in dev])
    train, val, test = split_events(generate_events(samples, seed=seed), seed=seed)
    recipe = RecipeParams(**{"extra_weight": REALISTIC_WEIGHT, **_parse_overrides(overrides, RecipeParams)})
    text = TextParams(**_parse_overrides(overrides, TextParams))
    probs_all = np.zeros((len(dev), len(CATEGORIES)))
    dump: dict[str, list[Any]] = {"fold": [], "role": [], "row": [], "raw": [], "temperature": []}
    prio_all: list[str] = [""] * len(dev)
    started = time.perf_counter()
    for k in range(folds):
        eval_idx = np.flatnonzero(group == k)
        cal_idx = np.flatnonzero(group == (k + 1) % folds)
        fit_idx = np.flatnonzero((group != k) & (group != (k + 1) % folds))
        model = train_event_classifier(train, val, test, seed=seed, forest=ForestParams(), text=text, recipe=recipe,
                                       extra_rows=[dev[i] for i in fit_idx],
                                       calibration_rows=[dev[i] for i in cal_idx])
        events, _ = labelled_to_inputs([dev[i] for i in eval_idx])
        p = model.predict_proba(events)
        if dump_path:
            for role, idx in (("cal", cal_idx), ("eval", eval_idx)):
                evs, _ = labelled_to_inputs([dev[i] for i in idx])
                dump["raw"].append(model.forest.predict_proba(model.stage2_features(evs)))
                dump["row"].append(idx)
                dump["fold"].append(np.full(len(idx), k))
                dump["role"].append(np.full(len(idx), role))
                dump["temperature"].append(np.full(len(idx), model.temperature))
        probs_all[eval_idx] = p
        for i, g in zip(eval_idx, model.predict_priority(events, p)):
            prio_all[i] = g
    y = np.asarray([CATEGORIES.index(r["category"]) for r in dev])
    if dump_path:
        arrays: dict[str, Any] = {"y": y, **{k: np.concatenate(v) for k, v in dump.items()}}
        np.savez(dump_path, **arrays)
    pred = probs_all.argmax(axis=1)
    conf = probs_all.max(axis=1)
    langs = np.asarray([r.get("lang", "?") for r in dev])
    out: dict[str, Any] = {
        "rows": len(dev), "seconds": round(time.perf_counter() - started, 1),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "ece": round(expected_calibration_error(probs_all, y), 4),
        "wrong_at_95": round(float(np.mean((pred != y) & (conf >= CONFIDENT))), 4),
        "share_at_95": round(float(np.mean(conf >= CONFIDENT)), 4),
        "per_language_f1": {lang: round(float(f1_score(y[langs == lang], pred[langs == lang], average="macro")), 4)
                            for lang in sorted(set(langs.tolist()))},
    }
    out["information_groups"] = group_report(dev, probs_all, y)
    truth = [(g, r["priority"]) for g, r in zip(prio_all, dev) if r.get("priority")]
    if truth:
        out["priority_accuracy"] = round(float(accuracy_score([t for _, t in truth], [g for g, _ in truth])), 4)
        out["priority_macro_f1"] = round(float(f1_score([t for _, t in truth], [g for g, _ in truth],
                                                        average="macro")), 4)
    if show_errors:
        wrong = [i for i in np.argsort(-conf) if pred[i] != y[i] and conf[i] >= CONFIDENT]
        out["confident_errors"] = [f"{conf[i]:.3f} {CATEGORIES[y[i]]}->{CATEGORIES[pred[i]]} [{langs[i]}] "
                                   f"{dev[i]['title']} | {dev[i].get('description') or ''} | "
                                   f"{dev[i].get('location') or ''}" for i in wrong]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recipe", nargs="*", default=[], help="RecipeParams/TextParams overrides, key=value")
    parser.add_argument("--errors", action="store_true", help="list the confident errors")
    parser.add_argument("--dump", help="write each fold's raw stage-2 probabilities (calibration and eval rows) to "
                                       "this .npz, to study calibrators without refitting")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.samples, args.folds, args.seed, args.recipe, args.errors,
                                    args.dump), ensure_ascii=False,
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
