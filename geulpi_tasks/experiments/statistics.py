"""The statistics of A/B experiments: pure functions on counts and samples (scipy), no I/O.

Two families of figures sit side by side:

- **fixed-horizon** tests (two-proportion z-test with a 95% interval, Welch's t-test and Mann-Whitney U on latency,
  chi-square sample-ratio check): correct only if read once, at a horizon fixed in advance;
- an **always-valid** decision (mSPRT with a normal mixture over the difference, the confidence sequence of
  Johari et al. 2017 / Howard et al. 2021 that Optimizely and Eppo use): its interval covers the true difference at
  every sample size simultaneously with probability 1 - alpha, so results may be read, and a winner declared,
  after any request without inflating the false-winner rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

# Metrics a ``success_metrics`` entry may name, and whether a higher value is better.
METRICS: dict[str, bool] = {
    "success_rate": True,
    "error_rate": False,
    "accuracy": True,
    "avg_latency_ms": False,
    "p50_latency_ms": False,
    "p95_latency_ms": False,
}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class ProportionTest:
    """Fixed-horizon comparison of two rates: ``difference`` is treatment minus control."""

    control_rate: float | None
    treatment_rate: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"controlRate": self.control_rate, "treatmentRate": self.treatment_rate,
                "difference": self.difference, "ci95": [self.ci_low, self.ci_high], "pValue": self.p_value}


def two_proportion_test(control_successes: int, control_n: int, treatment_successes: int, treatment_n: int,
                        *, confidence: float = 0.95) -> ProportionTest:
    """Difference of two rates with a Wald (unpooled) interval and the pooled two-sided z-test p-value.

    With an empty arm every figure is None; with no variance at all (both rates 0 or both 1) the p-value is 1.
    """
    if control_n <= 0 or treatment_n <= 0:
        return ProportionTest(None, None, None, None, None, None)
    p1, p2 = control_successes / control_n, treatment_successes / treatment_n
    diff = p2 - p1
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    se = math.sqrt(p1 * (1 - p1) / control_n + p2 * (1 - p2) / treatment_n)
    pooled = (control_successes + treatment_successes) / (control_n + treatment_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / treatment_n))
    p_value = 1.0 if se_pooled == 0 else float(2 * stats.norm.sf(abs(diff) / se_pooled))
    return ProportionTest(p1, p2, diff, diff - z_crit * se, diff + z_crit * se, p_value)


def latency_comparison(control: Sequence[float], treatment: Sequence[float]) -> dict[str, Any]:
    """Welch's t-test and Mann-Whitney U on two latency samples, with effect sizes.

    ``cohensD`` is (treatment - control) / pooled sd; ``rankBiserial`` is 2 * P(treatment > control) - 1 from the
    U statistic, so positive values mean the treatment is slower. Fewer than 2 values in an arm gives Nones.
    """
    a = np.asarray(control, dtype=float)
    b = np.asarray(treatment, dtype=float)
    empty: dict[str, Any] = {"controlMean": None, "treatmentMean": None, "meanDifferenceMs": None,
                             "welchT": None, "welchPValue": None, "cohensD": None,
                             "mannWhitneyU": None, "mannWhitneyPValue": None, "rankBiserial": None}
    if a.size < 2 or b.size < 2:
        return empty
    mean_a, mean_b = float(a.mean()), float(b.mean())
    var_a, var_b = float(a.var(ddof=1)), float(b.var(ddof=1))
    pooled_sd = math.sqrt(((a.size - 1) * var_a + (b.size - 1) * var_b) / (a.size + b.size - 2))
    welch_t: float | None
    welch_p: float | None
    if var_a == 0 and var_b == 0:  # identical constants: no test statistic exists
        welch_t, welch_p = None, (1.0 if mean_a == mean_b else 0.0)
    else:
        welch = stats.ttest_ind(b, a, equal_var=False)
        welch_t, welch_p = _finite(welch.statistic), _finite(welch.pvalue)
    mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    u = float(mw.statistic)
    return {"controlMean": mean_a, "treatmentMean": mean_b, "meanDifferenceMs": mean_b - mean_a,
            "welchT": welch_t, "welchPValue": welch_p,
            "cohensD": (mean_b - mean_a) / pooled_sd if pooled_sd > 0 else 0.0,
            "mannWhitneyU": u, "mannWhitneyPValue": _finite(mw.pvalue),
            "rankBiserial": 2 * u / (a.size * b.size) - 1}


def sample_ratio_mismatch(counts: Sequence[int], percentages: Sequence[float], *, threshold: float = 0.001
                          ) -> dict[str, Any]:
    """Chi-square goodness of fit of the observed exposures against the configured split.

    ``mismatch`` is true when p < ``threshold``: the assignment or the logging is broken and no result can be
    trusted. With no exposures at all there is nothing to test (p-value None, no mismatch).
    """
    observed = np.asarray(counts, dtype=float)
    total = float(observed.sum())
    if total <= 0:
        return {"chiSquare": None, "pValue": None, "mismatch": False, "threshold": threshold}
    expected = total * np.asarray(percentages, dtype=float) / float(sum(percentages))
    chi2, p_value = stats.chisquare(observed, expected)
    return {"chiSquare": float(chi2), "pValue": float(p_value), "mismatch": bool(p_value < threshold),
            "threshold": threshold}


@dataclass(frozen=True)
class SequentialTest:
    """Always-valid comparison of two rates (treatment minus control) by a normal-mixture mSPRT."""

    difference: float | None
    cs_low: float | None
    cs_high: float | None
    always_valid_p: float | None

    @property
    def significant(self) -> bool:
        return self.cs_low is not None and self.cs_high is not None and (self.cs_low > 0 or self.cs_high < 0)

    def to_dict(self) -> dict[str, Any]:
        return {"difference": self.difference, "confidenceSequence": [self.cs_low, self.cs_high],
                "alwaysValidPValue": self.always_valid_p, "significant": self.significant}


def sequential_proportion_test(control_successes: int, control_n: int, treatment_successes: int,
                               treatment_n: int, *, alpha: float = 0.05, tau: float = 0.03) -> SequentialTest:
    """mSPRT for the difference of two rates with a N(0, tau^2) mixture over the true difference.

    With V the (plug-in) variance of the observed difference d, the mixture likelihood ratio against "no
    difference" is ``sqrt(V / (V + tau^2)) * exp(d^2 tau^2 / (2 V (V + tau^2)))``; the always-valid p-value is its
    inverse (capped at 1) and the confidence sequence is ``d +/- sqrt(V (V + tau^2) / tau^2 *
    (2 log(1/alpha) + log((V + tau^2) / V)))``. Both hold at every sample size at once. When the observed rates
    have no variance yet, the rates are shrunk by one success and one failure so the interval stays honest.
    """
    if control_n <= 0 or treatment_n <= 0:
        return SequentialTest(None, None, None, None)
    p1, p2 = control_successes / control_n, treatment_successes / treatment_n
    diff = p2 - p1
    variance = p1 * (1 - p1) / control_n + p2 * (1 - p2) / treatment_n
    if variance <= 0:
        q1 = (control_successes + 1) / (control_n + 2)
        q2 = (treatment_successes + 1) / (treatment_n + 2)
        variance = q1 * (1 - q1) / control_n + q2 * (1 - q2) / treatment_n
    tau2 = tau * tau
    log_lr = 0.5 * math.log(variance / (variance + tau2)) + diff * diff * tau2 / (2 * variance * (variance + tau2))
    always_valid_p = min(1.0, math.exp(-log_lr)) if log_lr < 700 else 0.0
    half_width = math.sqrt(variance * (variance + tau2) / tau2
                           * (2 * math.log(1 / alpha) + math.log((variance + tau2) / variance)))
    return SequentialTest(diff, diff - half_width, diff + half_width, always_valid_p)


def decide_winner(variants: Sequence[str], successes: Sequence[int], totals: Sequence[int], *,
                  min_samples: int, alpha: float, tau: float) -> dict[str, Any]:
    """The peeking-safe decision: each treatment against the first variant (control), alpha split Bonferroni-wise.

    Before every variant has ``min_samples`` the status is ``collecting_data`` and nobody wins. Then the winner is
    the treatment whose confidence sequence lies above zero with the highest lower bound; if every treatment lies
    significantly below control, control wins; otherwise ``no_significant_difference``.
    """
    comparisons = []
    per_alpha = alpha / max(1, len(variants) - 1)
    for name, s, n in zip(variants[1:], successes[1:], totals[1:]):
        test = sequential_proportion_test(successes[0], totals[0], s, n, alpha=per_alpha, tau=tau)
        comparisons.append({"variant": name, "against": variants[0], **test.to_dict()})
    if min(totals) < min_samples:
        return {"status": "collecting_data", "winner": None, "alpha": alpha, "comparisons": comparisons,
                "reason": f"Every variant needs {min_samples} requests before a winner can be declared "
                          f"(fewest so far: {min(totals)})."}
    better = [c for c in comparisons if c["significant"] and c["difference"] > 0]
    if better:
        best = max(better, key=lambda c: c["confidenceSequence"][0])
        return {"status": "winner", "winner": best["variant"], "alpha": alpha, "comparisons": comparisons,
                "reason": f"'{best['variant']}' beats '{variants[0]}': its always-valid interval lies above zero."}
    if comparisons and all(c["significant"] and c["difference"] < 0 for c in comparisons):
        return {"status": "winner", "winner": variants[0], "alpha": alpha, "comparisons": comparisons,
                "reason": f"Control '{variants[0]}' beats every treatment: their always-valid intervals lie "
                          "below zero."}
    return {"status": "no_significant_difference", "winner": None, "alpha": alpha, "comparisons": comparisons,
            "reason": "No always-valid interval excludes zero yet."}


def score_variant(values: dict[str, float | None], success_metrics: dict[str, dict[str, float]]
                  ) -> dict[str, Any]:
    """Weighted pass/fail score in [0, 1]: sum of the weights of passed metrics over the weights of judged ones.

    A metric passes when its value is at least the threshold (at most, for lower-is-better metrics such as
    latency). A metric with no value yet (accuracy without feedback) is shown as not judged and left out.
    """
    metrics: dict[str, Any] = {}
    judged_weight = passed_weight = 0.0
    for name, spec in success_metrics.items():
        value = values.get(name)
        threshold, weight = float(spec["threshold"]), float(spec["weight"])
        if value is None:
            passed = None
        else:
            passed = value >= threshold if METRICS[name] else value <= threshold
            judged_weight += weight
            passed_weight += weight if passed else 0.0
        metrics[name] = {"value": value, "threshold": threshold, "weight": weight,
                         "higherIsBetter": METRICS[name], "passed": passed}
    score = passed_weight / judged_weight if judged_weight > 0 else None
    return {"score": score, "metrics": metrics}


def latency_summary(latencies: Sequence[float]) -> dict[str, float | None]:
    """Mean, median and 95th percentile of the kept latencies (None when none were recorded)."""
    arr = np.asarray(latencies, dtype=float)
    if arr.size == 0:
        return {"mean": None, "p50": None, "p95": None}
    return {"mean": float(arr.mean()), "p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95))}
