"""What a shadow showed: agreement with production per class, latency, confidence shift, accuracy of both versions
on the same corrected events, and a recommendation decided by the promotion gates (registry/gates.py).

``find_shadow_summary`` is the one entry point for other areas (e.g. an approval request showing "the shadow
summary, if one ran"); ``summarize`` is the pure part, testable without Redis or a registry.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import redis

from geulpi_tasks.errors import GeulpiError, NotFound
from geulpi_tasks.registry.gates import MIN_FEEDBACK_ROWS, PromotionGates, evaluate_gates, passed_reasons
from geulpi_tasks.registry.lifecycle import get_version
from geulpi_tasks.registry.store import find_version_by_alias, run_metrics
from geulpi_tasks.shadow.store import SEPARATOR, ShadowDeployment, find_latest, read_evidence


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _latency(samples: list[float], total: float, count: float) -> dict[str, Any]:
    values = np.asarray(samples, dtype=float)
    return {"mean": _ratio(total, count),
            "p50": float(np.percentile(values, 50)) if values.size else None,
            "p95": float(np.percentile(values, 95)) if values.size else None,
            "samplesKept": int(values.size)}


def summarize(deployment: ShadowDeployment, evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one shadow from its counters (``store.read_evidence``); no recommendation."""
    counts = evidence["counts"]

    def n(field: str) -> int:
        return int(counts.get(field, 0))

    scored = n("scored")
    per_class: dict[str, dict[str, Any]] = {}
    for pair, events in sorted(evidence["classes"].items()):
        production, _, shadow = pair.partition(SEPARATOR)
        entry = per_class.setdefault(production, {"events": 0, "agreed": 0, "shadowAnswers": {}})
        entry["events"] += events
        entry["agreed"] += events if production == shadow else 0
        entry["shadowAnswers"][shadow] = entry["shadowAnswers"].get(shadow, 0) + events
    for entry in per_class.values():
        entry["rate"] = _ratio(entry["agreed"], entry["events"])
    agreed = sum(e["agreed"] for e in per_class.values())
    feedback = n("feedback")
    production_mean = _ratio(counts.get("production_confidence_sum", 0.0), scored)
    shadow_mean = _ratio(counts.get("shadow_confidence_sum", 0.0), scored)
    return {
        "shadow": deployment.to_wire(),
        "events": {"observed": scored + n("failed") + n("dropped"), "scored": scored, "failed": n("failed"),
                   "dropped": n("dropped")},
        "agreement": {"rate": _ratio(agreed, scored), "agreed": agreed, "scored": scored, "perClass": per_class},
        "latencyMs": {
            "events": n("latency_count"),
            "production": _latency(evidence["latency"]["production"], counts.get("production_latency_sum_ms", 0.0),
                                   n("latency_count")),
            "shadow": _latency(evidence["latency"]["shadow"], counts.get("shadow_latency_sum_ms", 0.0),
                               n("latency_count"))},
        "confidence": {"productionMean": production_mean, "shadowMean": shadow_mean,
                       "shift": (shadow_mean - production_mean) if scored and production_mean is not None
                       and shadow_mean is not None else None,
                       "meanAbsoluteShift": _ratio(counts.get("confidence_abs_shift_sum", 0.0), scored)},
        "feedback": {"answers": feedback, "productionCorrect": n("production_correct"),
                     "shadowCorrect": n("shadow_correct"),
                     "productionAccuracy": _ratio(n("production_correct"), feedback),
                     "shadowAccuracy": _ratio(n("shadow_correct"), feedback)},
    }


def gate_metrics(tracking_uri: str, deployment: ShadowDeployment, figures: Mapping[str, Any],
                 current_production: str | None) -> dict[str, Any]:
    """The metrics the promotion gates judge the shadow version on: what it logged when trained (held-out
    realistic figures), with its live accuracy on corrected events in place of the training-time correction
    holdout when it was compared with the production version serving now. Raises NotFound/Unavailable."""
    logged = run_metrics(tracking_uri, run_id) if (run_id := get_version(
        tracking_uri, deployment.model_name, deployment.version).run_id) else {}
    metrics: dict[str, Any] = dict(logged)
    feedback = figures["feedback"]
    if not feedback["answers"] or current_production != deployment.production_version:
        return metrics
    production_logged: Mapping[str, Any] = {}
    production_run = get_version(tracking_uri, deployment.model_name, current_production).run_id
    if production_run:
        production_logged = run_metrics(tracking_uri, production_run)
    metrics.update(production_version=float(current_production),
                   production_realistic_dev_accuracy=production_logged.get("realistic_dev_accuracy"),
                   feedback_holdout_accuracy=feedback["shadowAccuracy"], feedback_holdout_rows=feedback["answers"],
                   production_feedback_holdout_accuracy=feedback["productionAccuracy"])
    return metrics


def recommend(tracking_uri: str, deployment: ShadowDeployment, figures: Mapping[str, Any],
              gates: PromotionGates) -> dict[str, Any]:
    """What a promotion of the shadow version would decide now, under the same gates; registry trouble is
    reported in place (the live figures never depend on the registry)."""
    try:
        production = find_version_by_alias(tracking_uri, deployment.model_name)
        current = production.version if production is not None else None
        if current == deployment.version:
            return {"action": "none", "passed": None, "currentProductionVersion": current,
                    "reasons": [f"Version {current} is already in production."]}
        metrics = gate_metrics(tracking_uri, deployment, figures, current)
        verdict = evaluate_gates(tracking_uri, deployment.model_name, deployment.version, metrics, gates)
    except GeulpiError as err:
        return {"action": None, "passed": None, "reasons": [err.message], "error": err.code}
    answers = figures["feedback"]["answers"]
    if current != deployment.production_version:
        live = (f"not applied: production moved from version {deployment.production_version} to {current} since "
                "the shadow started; start a new shadow to compare with it")
    elif answers >= MIN_FEEDBACK_ROWS:
        live = f"applied: {answers} corrected events"
    else:
        live = f"not yet: {answers} of {MIN_FEEDBACK_ROWS} corrected events needed before it can block a promotion"
    return {"action": "promote" if verdict.passed else "keep_production", "passed": verdict.passed,
            "currentProductionVersion": current,
            "reasons": passed_reasons(metrics, gates, verdict) if verdict.passed else verdict.reasons,
            "liveFeedbackGate": live}


def find_shadow_summary(client: redis.Redis, key_prefix: str, tracking_uri: str, model_name: str,
                        gates: PromotionGates) -> dict[str, Any] | None:
    """The summary of the model's most recent shadow (running or ended): figures and a recommendation under the
    promotion gates; None when no shadow ever ran for the model. Raises Unavailable when Redis does not answer."""
    deployment = find_latest(client, key_prefix, model_name)
    if deployment is None:
        return None
    figures = summarize(deployment, read_evidence(client, key_prefix, deployment.shadow_id))
    return {**figures, "recommendation": recommend(tracking_uri, deployment, figures, gates)}


def get_shadow_summary(client: redis.Redis, key_prefix: str, tracking_uri: str, model_name: str,
                       gates: PromotionGates) -> dict[str, Any]:
    """As ``find_shadow_summary``; NotFound when no shadow ever ran for the model."""
    summary = find_shadow_summary(client, key_prefix, tracking_uri, model_name, gates)
    if summary is None:
        raise NotFound(f"No shadow deployment of '{model_name}' has run; start one with POST /models/{model_name}"
                       "/shadow.", code="no_shadow", details={"modelName": model_name})
    return summary
