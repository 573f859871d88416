"""Compare two versions of a model now, on the same held-out data, and recommend one with the reason.

The held-out set is generated with a fixed evaluation seed that training never uses (so both versions see the same
events, none of them training rows), plus every stored user correction. Both versions are evaluated through the
serving runtime (ONNX), the path production traffic takes. The stored training metrics are not used: they were
measured on each version's own test split and are not comparable.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.stats import binomtest

from geulpi_tasks.data.generator import generate_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.errors import InvalidValue
from geulpi_tasks.models.event_classifier import evaluate, labelled_to_inputs
from geulpi_tasks.models.explain import IMPORTANCE_ROWS, NotExplainable
from geulpi_tasks.models.realistic_eval import realistic_metrics
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.registry.lifecycle import get_version
from geulpi_tasks.registry.store import download_bundle, find_version_by_alias

# Never used for training data (training uses Settings.seed, 7 by default).
EVAL_SEED = 20_241_129
# Below this p-value (exact McNemar test on the paired predictions) an accuracy difference counts as real.
SIGNIFICANCE = 0.05
LATENCY_SAMPLES = 200


def held_out_rows(feedback_rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deciding set: the realistic dev holdout (hand-labelled events no training job fits on), then the feedback
    rows (users' corrections). The generator's events and the frozen test set are only reported."""
    _fit, holdout = split_dev(load_rows(SetRole.DEV))
    return [*holdout, *feedback_rows]


def mcnemar_p(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value of paired correctness vectors (1.0 when they never disagree)."""

    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)


def _load(tracking_uri: str, name: str, version: str, cache_dir: Path, field: str) -> ServedClassifier:
    get_version(tracking_uri, name, version)
    bundle = download_bundle(tracking_uri, name, version, cache_dir)
    try:
        return ServedClassifier.load(bundle, name=name, version=version)
    except (KeyError, ValueError, FileNotFoundError) as err:
        raise InvalidValue(f"Version {version} of '{name}' cannot be served by this code ({err}); only event "
                           "classifier bundles with the current feature schema can be compared.",
                           field=field) from err


def _measure(model: ServedClassifier, events: list[Any], y: np.ndarray, n_feedback: int) -> tuple[dict[str, Any],
                                                                                                   np.ndarray]:
    started = time.perf_counter()
    probs = model.predict_proba(events)
    batch_seconds = time.perf_counter() - started
    single = []
    for event in events[:LATENCY_SAMPLES]:
        t0 = time.perf_counter()
        model.predict_proba([event])
        single.append((time.perf_counter() - t0) * 1e6)
    metrics = evaluate(probs, y)
    metrics["rows"] = len(events)
    metrics["batch_throughput_per_s"] = len(events) / batch_seconds if batch_seconds > 0 else None
    metrics["single_latency_p50_us"] = float(np.percentile(single, 50)) if single else None
    if n_feedback:
        pred_fb = probs[-n_feedback:].argmax(axis=1)
        metrics["feedback_rows"] = n_feedback
        metrics["feedback_accuracy"] = float(np.mean(pred_fb == y[-n_feedback:]))
    return metrics, probs.argmax(axis=1) == y


def compare_versions(tracking_uri: str, name: str, version_a: str, version_b: str, *, cache_dir: Path,
                     n_generated: int, feedback_rows: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Evaluate both versions on the same held-out rows now and recommend one: the realistic dev holdout and the
    users' corrections decide; the generator's events (``n_generated``) and the frozen realistic test set are
    reported beside them.

    Recommends the more accurate version when the difference is significant (exact McNemar test on the paired
    predictions); otherwise the production version when one of them serves, else the one with the lower log-loss.
    Raises InvalidInput/InvalidValue for bad versions, NotFound for unknown ones, Unavailable for registry faults.
    """
    version_a, version_b = str(version_a).strip(), str(version_b).strip()
    if version_a == version_b:
        raise InvalidValue("'version_a' and 'version_b' are the same version; name two different ones.",
                           field="version_b")
    if n_generated < 1:
        raise InvalidValue("The comparison needs at least one generated held-out event.", field="n_generated")
    model_a = _load(tracking_uri, name, version_a, cache_dir, "version_a")
    model_b = _load(tracking_uri, name, version_b, cache_dir, "version_b")
    rows = held_out_rows(feedback_rows)
    events, y = labelled_to_inputs(rows)
    metrics_a, correct_a = _measure(model_a, events, y, len(feedback_rows))
    metrics_b, correct_b = _measure(model_b, events, y, len(feedback_rows))
    generated = generate_events(n_generated, seed=EVAL_SEED)
    gen_events, gen_y = labelled_to_inputs(generated)
    test_rows = load_rows(SetRole.TEST)
    p_value = mcnemar_p(correct_a, correct_b)
    production = find_version_by_alias(tracking_uri, name)
    production_version = production.version if production else None
    recommended, reason = _recommend(version_a, metrics_a, version_b, metrics_b, p_value, production_version)
    return {
        "model_name": name, "version_a": version_a, "version_b": version_b,
        "evaluation": {"rows": len(rows), "realistic_dev_rows": len(rows) - len(feedback_rows),
                       "feedback_rows": len(feedback_rows), "decides": "realistic dev holdout + feedback",
                       "generated_rows": n_generated, "generator_seed": EVAL_SEED,
                       "realistic_test_rows": len(test_rows), "runtime": "onnxruntime"},
        "metrics": {version_a: metrics_a, version_b: metrics_b},
        # Reported beside the deciding figures, never used to recommend.
        "generator": {v: evaluate(m.predict_proba(gen_events), gen_y)
                      for v, m in ((version_a, model_a), (version_b, model_b))},
        "realistic_test": {v: realistic_metrics(m, test_rows)
                           for v, m in ((version_a, model_a), (version_b, model_b))},
        # What drives each class in each version, on the same deciding events (models/explain.py).
        "importance": {v: _importance(m, events) for v, m in ((version_a, model_a), (version_b, model_b))},
        "difference": {"accuracy_b_minus_a": metrics_b["accuracy"] - metrics_a["accuracy"],
                       "only_a_correct": int(np.sum(correct_a & ~correct_b)),
                       "only_b_correct": int(np.sum(~correct_a & correct_b)),
                       "mcnemar_p_value": p_value, "significant": p_value < SIGNIFICANCE},
        "production_version": production_version,
        "recommended_version": recommended, "reason": reason,
    }


def _importance(model: ServedClassifier, events: list[Any]) -> dict[str, Any] | None:
    try:
        return model.global_importance(events[:IMPORTANCE_ROWS])
    except NotExplainable:  # a stage-2 family without an exact explainer
        return None


def _recommend(version_a: str, metrics_a: dict[str, Any], version_b: str, metrics_b: dict[str, Any],
               p_value: float, production_version: str | None) -> tuple[str, str]:
    acc_a, acc_b = metrics_a["accuracy"], metrics_b["accuracy"]
    rows = metrics_a["rows"]
    if p_value < SIGNIFICANCE and acc_a != acc_b:
        best, other = (version_a, version_b) if acc_a > acc_b else (version_b, version_a)
        return best, (f"Version {best} is more accurate on the same {rows} held-out real events "
                      f"({max(acc_a, acc_b):.4f} vs {min(acc_a, acc_b):.4f}; exact McNemar p={p_value:.3g} < "
                      f"{SIGNIFICANCE}).")
    detail = (f"accuracy {acc_a:.4f} (v{version_a}) vs {acc_b:.4f} (v{version_b}) on {rows} held-out real events "
              f"is not a significant difference (exact McNemar p={p_value:.3g})")
    if production_version in (version_a, version_b):
        return production_version, f"Keep production version {production_version}: {detail}."  # type: ignore[return-value]
    best = version_a if metrics_a["log_loss"] <= metrics_b["log_loss"] else version_b
    return best, (f"Version {best} has the lower log-loss ({min(metrics_a['log_loss'], metrics_b['log_loss']):.4f}); "
                  f"{detail}.")
