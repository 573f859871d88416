"""Drift statistics: how far a recent window of predictions is from a version's reference snapshot.

Per feature, the test depends on the reference size (the convention Evidently uses):

- small reference (``<= small_reference`` rows): two-sample Kolmogorov–Smirnov for numeric features and a
  chi-square test of homogeneity for categorical ones; drifted when ``p < alpha``;
- large reference: Wasserstein distance normalised by the reference's standard deviation for numeric features and
  the Jensen–Shannon distance (base 2, in [0, 1]) for categorical ones; drifted when ``>= distance_threshold``
  (with thousands of rows every tiny, harmless shift would be "significant" to a p-value test).

The Population Stability Index is reported alongside for every feature. Prediction drift compares the mix of
predicted classes with the training label mix the same way. The feature drift score is the share of drifted
features, so the seed's alert (score > 0.15) fires once two of the eight features move.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

from geulpi_tasks.monitoring.prediction_log import CATEGORICAL_FEATURES, NUMERIC_FEATURES

SMALL_REFERENCE = 1000
ALPHA = 0.05
DISTANCE_THRESHOLD = 0.1
# Above this the drift score counts as drift (the seed's default alert threshold).
DRIFT_SCORE_THRESHOLD = 0.15
PSI_BINS = 10
_PSI_EPS = 1e-4


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str            # "numeric" | "categorical"
    method: str          # "ks" | "chi2" | "wasserstein_normed" | "jensen_shannon"
    statistic: float     # the method's statistic (distance for the large-reference methods)
    p_value: float | None
    threshold: float     # alpha for the tests, distance threshold for the distances
    drifted: bool
    psi: float
    n_reference: int
    n_current: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def population_stability_index(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    """PSI = sum((cur - ref) * ln(cur / ref)) over bins, with empty bins floored at a tiny share."""
    ref = np.clip(ref_share, _PSI_EPS, None)
    cur = np.clip(cur_share, _PSI_EPS, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _numeric_psi(ref: np.ndarray, cur: np.ndarray, bins: int) -> float:
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) < 2:  # constant reference: one bin for "equal", one for "different"
        same_ref = 1.0
        same_cur = float(np.mean(cur == ref[0])) if len(cur) else 0.0
        return population_stability_index(np.array([same_ref, 0.0]), np.array([same_cur, 1.0 - same_cur]))
    inner = edges[1:-1]
    ref_counts = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=len(edges) - 1)
    cur_counts = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=len(edges) - 1)
    return population_stability_index(ref_counts / ref_counts.sum(), cur_counts / max(cur_counts.sum(), 1))


def numeric_drift(feature: str, reference: Sequence[float], current: Sequence[float], *,
                  small_reference: int = SMALL_REFERENCE, alpha: float = ALPHA,
                  distance_threshold: float = DISTANCE_THRESHOLD) -> FeatureDrift:
    """Drift of one numeric feature; both samples must be non-empty (ValueError otherwise)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        raise ValueError(f"numeric_drift({feature!r}) needs non-empty reference and current samples")
    psi = _numeric_psi(ref, cur, PSI_BINS)
    if ref.size <= small_reference:
        result = stats.ks_2samp(ref, cur)
        p = float(result.pvalue)
        return FeatureDrift(feature, "numeric", "ks", float(result.statistic), p, alpha, p < alpha, psi,
                            int(ref.size), int(cur.size))
    distance = float(stats.wasserstein_distance(ref, cur))
    scale = float(np.std(ref))
    # A constant reference has no spread to normalise by: any distance is a full shift.
    normed = distance / scale if scale > 0 else (0.0 if distance == 0 else 1.0)
    return FeatureDrift(feature, "numeric", "wasserstein_normed", normed, None, distance_threshold,
                        normed >= distance_threshold, psi, int(ref.size), int(cur.size))


def categorical_drift(feature: str, reference: Mapping[str, int], current: Mapping[str, int], *,
                      small_reference: int = SMALL_REFERENCE, alpha: float = ALPHA,
                      distance_threshold: float = DISTANCE_THRESHOLD) -> FeatureDrift:
    """Drift of one categorical feature from per-category counts; both must have a positive total."""
    categories = sorted(set(reference) | set(current))
    ref = np.array([reference.get(c, 0) for c in categories], dtype=np.float64)
    cur = np.array([current.get(c, 0) for c in categories], dtype=np.float64)
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError(f"categorical_drift({feature!r}) needs positive reference and current counts")
    psi = population_stability_index(ref / ref.sum(), cur / cur.sum())
    n_ref, n_cur = int(ref.sum()), int(cur.sum())
    if n_ref <= small_reference:
        if len(categories) < 2:
            return FeatureDrift(feature, "categorical", "chi2", 0.0, 1.0, alpha, False, psi, n_ref, n_cur)
        chi2, p, _dof, _expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
        return FeatureDrift(feature, "categorical", "chi2", float(chi2), float(p), alpha, float(p) < alpha, psi,
                            n_ref, n_cur)
    distance = float(jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2))
    return FeatureDrift(feature, "categorical", "jensen_shannon", distance, None, distance_threshold,
                        distance >= distance_threshold, psi, n_ref, n_cur)


def class_mix_distance(reference: Mapping[str, int], current: Mapping[str, int]) -> float:
    """Jensen–Shannon distance (base 2) between two class mixes: 0 identical, 1 disjoint."""
    categories = sorted(set(reference) | set(current))
    ref = np.array([reference.get(c, 0) for c in categories], dtype=np.float64)
    cur = np.array([current.get(c, 0) for c in categories], dtype=np.float64)
    return float(jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2))


def detect_drift(reference: Mapping[str, Any], window: Sequence[Mapping[str, Any]],
                 predicted_classes: Sequence[str], *, small_reference: int = SMALL_REFERENCE, alpha: float = ALPHA,
                 distance_threshold: float = DISTANCE_THRESHOLD,
                 score_threshold: float = DRIFT_SCORE_THRESHOLD) -> dict[str, Any]:
    """Compare a window of feature summaries (and its predicted classes) with a reference snapshot.

    Returns per-feature results, the share of drifted features (``feature_score``), prediction drift and the
    verdict. Raises ValueError on an empty window.
    """
    if not window:
        raise ValueError("detect_drift needs at least one prediction in the window")
    opts: dict[str, Any] = {"small_reference": small_reference, "alpha": alpha,
                            "distance_threshold": distance_threshold}
    features: list[FeatureDrift] = []
    for feat in NUMERIC_FEATURES:
        ref_values = reference["numeric"].get(feat) or []
        if ref_values:
            features.append(numeric_drift(feat, ref_values, [float(w[feat]) for w in window], **opts))
    for feat in CATEGORICAL_FEATURES:
        ref_counts = reference["categorical"].get(feat) or {}
        if ref_counts:
            cur_counts: dict[str, int] = {}
            for w in window:
                cur_counts[str(w[feat])] = cur_counts.get(str(w[feat]), 0) + 1
            features.append(categorical_drift(feat, ref_counts, cur_counts, **opts))
    drifted = [f.feature for f in features if f.drifted]
    share = len(drifted) / len(features) if features else 0.0
    prediction: dict[str, Any] | None = None
    class_counts: dict[str, int] = {}
    for cls in predicted_classes:
        class_counts[cls] = class_counts.get(cls, 0) + 1
    if reference.get("classes") and class_counts:
        test = categorical_drift("predicted_class", reference["classes"], class_counts, **opts)
        prediction = {**test.to_dict(), "score": class_mix_distance(reference["classes"], class_counts),
                      "current_mix": class_counts}
    prediction_drifted = bool(prediction and prediction["drifted"])
    return {
        "n_current": len(window), "n_reference": int(reference.get("n", 0)),
        "features": [f.to_dict() for f in features], "drifted_features": drifted,
        "feature_score": share, "prediction": prediction,
        "scores": {"feature": share, "prediction": prediction["score"] if prediction else None,
                   "max_psi": max((f.psi for f in features), default=0.0)},
        "drift_detected": share > score_threshold or prediction_drifted,
    }
