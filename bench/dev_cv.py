"""Choose the classifier recipe on the dev sets only: grouped K-fold cross-validation over the hand-labelled dev
rows, each fold trained exactly as a fresh system trains (generated rows + dev rows weighted, a calibration share of
dev), and measured on the dev rows it never saw. The frozen test set is never read here.

Folds are groups of the same stable text hash ``split_dev`` uses, so a repeated text never straddles fit and eval.
For fold k: eval = fold k, calibration = fold k+1, fit = the rest.

    python -m bench.dev_cv [--samples N] [--folds K] [--recipe key=value ...] [--errors]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from geulpi_tasks.data.generator import generate_events, split_events
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
        np.savez(dump_path, y=y, **{k: np.concatenate(v) for k, v in dump.items()})
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
