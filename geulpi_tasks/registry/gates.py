"""Promotion gates and auto-promotion of a freshly trained version, decided on real events, not generated ones.

A candidate always goes to Staging. It reaches Production only when its metrics on the realistic dev holdout
(hand-labelled events kept out of its fitting: accuracy, macro precision, macro recall) pass the gates, its
realistic accuracy is not worse than production's on the same rows by more than ``max_accuracy_drop`` (0 by
default), and, when enough user corrections were held out, it is not worse than production on those either.
The generator's split and the frozen realistic test set are reported, never used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from geulpi_tasks.errors import InvalidValue
from geulpi_tasks.registry.lifecycle import _mlflow_call, promote_version
from geulpi_tasks.registry.store import Stage, client_for, find_version_by_alias
from geulpi_tasks.settings import Settings


@dataclass(frozen=True)
class PromotionGates:
    # Defaults live in Settings (one home per knob); this only names them for the gate check.
    min_accuracy: float = Settings.gate_min_accuracy
    min_macro_precision: float = Settings.gate_min_macro_precision
    min_macro_recall: float = Settings.gate_min_macro_recall
    # How much lower than production's accuracy a candidate may score and still replace it (absolute, 0..1).
    max_accuracy_drop: float = 0.0

    def __post_init__(self) -> None:
        for field in ("min_accuracy", "min_macro_precision", "min_macro_recall", "max_accuracy_drop"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
                raise InvalidValue(f"Promotion gate '{field}' must be a number between 0 and 1, got {value!r}.",
                                   field=field)

    @classmethod
    def from_settings(cls, settings: Any) -> "PromotionGates":
        return cls(min_accuracy=settings.gate_min_accuracy, min_macro_precision=settings.gate_min_macro_precision,
                   min_macro_recall=settings.gate_min_macro_recall)


_GATED = (("realistic_dev_accuracy", "min_accuracy"), ("realistic_dev_macro_precision", "min_macro_precision"),
          ("realistic_dev_macro_recall", "min_macro_recall"))
DECIDING = "realistic_dev_accuracy"
# Below this many held-out corrections, feedback accuracy is too noisy to block a promotion.
MIN_FEEDBACK_ROWS = 20


def check_gates(metrics: Mapping[str, Any], gates: PromotionGates) -> list[str]:
    """Reasons the metrics fail the gates; empty when they pass. A missing or non-numeric metric fails."""
    reasons = []
    for metric, gate in _GATED:
        value = metrics.get(metric)
        threshold = float(getattr(gates, gate))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            reasons.append(f"{metric} was not measured; it must be at least {threshold:.3f}")
        elif float(value) < threshold:
            reasons.append(f"{metric} {float(value):.4f} is below the gate {threshold:.3f}")
    return reasons


def compare_with_production(candidate_accuracy: float, production_accuracy: float | None,
                            max_accuracy_drop: float, what: str = "realistic accuracy") -> str | None:
    """Why the candidate is worse than production, or None when it is not."""
    if production_accuracy is None:
        return None
    if candidate_accuracy < production_accuracy - max_accuracy_drop:
        return (f"{what} {candidate_accuracy:.4f} is worse than production's {production_accuracy:.4f}"
                + (f" by more than {max_accuracy_drop:.3f}" if max_accuracy_drop else ""))
    return None


def _production_figures(metrics: Mapping[str, Any], production: Any, logged: Mapping[str, Any]
                        ) -> tuple[float | None, float | None]:
    """Production's (realistic dev accuracy, feedback holdout accuracy): measured on the candidate's own rows when
    the candidate's job measured this very production version, else what production logged when it was trained."""
    if production is not None and metrics.get("production_version") == _as_float(production.version):
        return (_number(metrics.get("production_realistic_dev_accuracy")),
                _number(metrics.get("production_feedback_holdout_accuracy")))
    return _number(logged.get(DECIDING)), None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _as_float(version: str) -> float | None:
    try:
        return float(version)
    except ValueError:
        return None


@dataclass(frozen=True)
class GateVerdict:
    """What the promotion gates say about a version now: ``reasons`` it may not replace production (empty when it
    may), and the production version and accuracy it was compared with."""

    reasons: list[str]
    production_version: str | None
    production_accuracy: float | None

    @property
    def passed(self) -> bool:
        return not self.reasons


def evaluate_gates(tracking_uri: str, name: str, version: str, metrics: Mapping[str, Any],
                   gates: PromotionGates) -> GateVerdict:
    """The gates of a promotion to Production, without moving anything: ``metrics`` (held-out) against the gate
    thresholds, then against the current production version (its figures measured on the same rows when
    ``metrics`` carries them, else what it logged when trained), then held-out user corrections when at least
    ``MIN_FEEDBACK_ROWS`` were measured. Raises Unavailable when the registry does not answer."""
    version = str(version)
    reasons = check_gates(metrics, gates)
    production = find_version_by_alias(tracking_uri, name)
    logged: Mapping[str, Any] = {}
    if production is not None and production.version != version and production.run_id:
        run = _mlflow_call(f"Run {production.run_id} of production version {production.version}",
                           client_for(tracking_uri).get_run, production.run_id)
        logged = run.data.metrics
    if production is not None and production.version == version:
        production = None
    production_accuracy, production_feedback = _production_figures(metrics, production, logged)
    if not reasons and _number(metrics.get(DECIDING)) is not None:
        worse = compare_with_production(float(metrics[DECIDING]), production_accuracy, gates.max_accuracy_drop)
        if worse:
            reasons.append(worse)
    feedback = _number(metrics.get("feedback_holdout_accuracy"))
    if (not reasons and feedback is not None and production_feedback is not None
            and (_number(metrics.get("feedback_holdout_rows")) or 0) >= MIN_FEEDBACK_ROWS):
        worse = compare_with_production(feedback, production_feedback, gates.max_accuracy_drop,
                                        "accuracy on held-out user corrections")
        if worse:
            reasons.append(worse)
    return GateVerdict(reasons, production.version if production else None, production_accuracy)


def passed_reasons(metrics: Mapping[str, Any], gates: PromotionGates, verdict: GateVerdict) -> list[str]:
    """Why a version that passed the gates passed, one line per gate."""
    passed = [f"{metric} {float(metrics[metric]):.4f} >= {float(getattr(gates, gate)):.3f}" for metric, gate in _GATED]
    if verdict.production_accuracy is not None:
        passed.append(f"realistic accuracy {float(metrics[DECIDING]):.4f} is not worse than production version "
                      f"{verdict.production_version or '?'} ({verdict.production_accuracy:.4f})")
    else:
        passed.append("no production version to compare with")
    return passed


@dataclass(frozen=True)
class GateAssessment:
    """What the gates said about a candidate: ``reasons`` it fails (empty when it passes), or why it passed."""

    passed: bool
    reasons: list[str]
    production_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": self.reasons, "production_version": self.production_version}


# Given a candidate that passed the gates, whoever must approve its promotion: returns the pending request.
RequestApproval = Callable[[str, str, GateAssessment], dict[str, Any]]


def assess_candidate(tracking_uri: str, name: str, version: str, metrics: Mapping[str, Any],
                     gates: PromotionGates) -> GateAssessment:
    """``evaluate_gates`` with the reasons it passed when it did, writing nothing. Raises Unavailable."""
    verdict = evaluate_gates(tracking_uri, name, version, metrics, gates)
    if verdict.reasons:
        return GateAssessment(passed=False, reasons=verdict.reasons, production_version=verdict.production_version)
    return GateAssessment(passed=True, reasons=passed_reasons(metrics, gates, verdict),
                          production_version=verdict.production_version)


def apply_auto_promote(tracking_uri: str, name: str, version: str, metrics: dict[str, Any],
                       gates: PromotionGates, request_approval: RequestApproval | None = None) -> dict[str, Any]:
    """Move ``version`` to Staging; then to Production when ``metrics`` (held-out) pass ``gates`` and its accuracy
    is not worse than the current production version's logged accuracy (``evaluate_gates``).

    With ``request_approval`` (promotions need a second key's approval), a version that passes stays in Staging
    and the hook's pending request is returned as ``pending_approval`` instead of promoting it.

    Returns ``{"stage", "promoted", "reasons", "production_version", "archived"}``: ``reasons`` says why it was or
    was not promoted. Raises NotFound for an unknown version, Unavailable when the registry does not answer.
    """
    version = str(version)
    promote_version(tracking_uri, name, version, Stage.STAGING.value)
    assessment = assess_candidate(tracking_uri, name, version, metrics, gates)
    outcome: dict[str, Any] = {"stage": Stage.STAGING.value, "promoted": False, "reasons": assessment.reasons,
                               "production_version": assessment.production_version, "archived": []}
    if not assessment.passed:
        return outcome
    if request_approval is not None:
        outcome["pending_approval"] = request_approval(name, version, assessment)
        return outcome
    moved = promote_version(tracking_uri, name, version, Stage.PRODUCTION.value)
    outcome.update(stage=Stage.PRODUCTION.value, promoted=True, production_version=version,
                   archived=moved["archived"])
    return outcome
