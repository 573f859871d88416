"""A/B statistics, assignment and validation: pure functions, seeded, fast."""

import math
import random
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from bench.simulate_ab import simulate
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.experiments import statistics as st
from geulpi_tasks.experiments.assignment import assign_variant
from geulpi_tasks.experiments.lifecycle import AnalysisConfig, analyze, parse_experiment
from geulpi_tasks.experiments.store import Experiment, Variant


def test_two_proportion_test_matches_textbook_figures():
    test = st.two_proportion_test(450, 1000, 500, 1000)
    assert test.difference == pytest.approx(0.05)
    se = math.sqrt(0.45 * 0.55 / 1000 + 0.5 * 0.5 / 1000)
    assert test.ci_low == pytest.approx(0.05 - 1.959964 * se, abs=1e-6)
    assert test.ci_high == pytest.approx(0.05 + 1.959964 * se, abs=1e-6)
    # Pooled z-test equals the chi-square test of the 2x2 table without continuity correction.
    chi2 = stats.chi2_contingency([[450, 550], [500, 500]], correction=False)
    assert test.p_value == pytest.approx(chi2.pvalue, rel=1e-9)


def test_two_proportion_test_handles_empty_and_constant_arms():
    assert st.two_proportion_test(0, 0, 5, 10).p_value is None
    constant = st.two_proportion_test(10, 10, 20, 20)
    assert constant.difference == 0 and constant.p_value == 1.0


def test_latency_comparison_reports_welch_mann_whitney_and_effect_sizes():
    rng = np.random.default_rng(3)
    a = rng.normal(10, 2, 400)
    b = rng.normal(11, 2, 400)
    out = st.latency_comparison(a, b)
    assert out["welchPValue"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert out["welchPValue"] < 1e-6 and out["mannWhitneyPValue"] < 1e-6
    assert 0.3 < out["cohensD"] < 0.7  # true d = 0.5
    assert out["rankBiserial"] > 0  # treatment slower
    assert st.latency_comparison([1.0], [2.0, 3.0])["welchPValue"] is None


def test_sample_ratio_mismatch_flags_only_below_threshold():
    fine = st.sample_ratio_mismatch([5030, 4970], [50, 50])
    assert fine["mismatch"] is False and fine["pValue"] > 0.5
    broken = st.sample_ratio_mismatch([5300, 4700], [50, 50])
    assert broken["mismatch"] is True and broken["pValue"] < 0.001
    assert st.sample_ratio_mismatch([0, 0], [50, 50])["pValue"] is None
    skewed = st.sample_ratio_mismatch([9000, 1000], [90, 10])
    assert skewed["mismatch"] is False


def test_confidence_sequence_is_wider_than_the_fixed_interval_and_contains_the_difference():
    seq = st.sequential_proportion_test(900, 1000, 930, 1000)
    fixed = st.two_proportion_test(900, 1000, 930, 1000)
    assert seq.cs_low < fixed.ci_low < fixed.difference < fixed.ci_high < seq.cs_high
    assert seq.difference == pytest.approx(0.03)
    assert 0 < seq.always_valid_p <= 1


def test_decision_collects_data_before_the_minimum_even_with_a_huge_difference():
    decision = st.decide_winner(["a", "b"], [100, 999], [999, 999], min_samples=1000, alpha=0.05, tau=0.03)
    assert decision["status"] == "collecting_data" and decision["winner"] is None
    later = st.decide_winner(["a", "b"], [100, 999], [1000, 1000], min_samples=1000, alpha=0.05, tau=0.03)
    assert later["winner"] == "b"
    worse = st.decide_winner(["a", "b"], [999, 100], [1000, 1000], min_samples=1000, alpha=0.05, tau=0.03)
    assert worse["winner"] == "a"


def test_aa_experiments_peeked_after_every_batch_rarely_declare_a_winner():
    # 300 A/A runs, read after every 100 requests per arm up to 3000: the always-valid rule stays under 5 %,
    # where a fixed-horizon z-test read at every look would declare far more.
    result = simulate(runs=300, control_rate=0.5, treatment_rate=0.5, per_arm=3000, batch=100, seed=11)
    assert result.winner_rate <= 0.05
    assert result.naive_peeking_significant / result.runs > result.winner_rate


def test_ab_with_a_three_point_difference_is_detected_in_most_runs():
    result = simulate(runs=80, control_rate=0.90, treatment_rate=0.93, per_arm=5000, batch=250, seed=12)
    assert result.declared_treatment / result.runs >= 0.8
    assert result.declared_control == 0


def test_score_weights_passed_metrics_and_skips_unjudged_ones():
    metrics = {"success_rate": {"threshold": 0.95, "weight": 1.0}, "avg_latency_ms": {"threshold": 100, "weight": 0.5},
               "accuracy": {"threshold": 0.8, "weight": 2.0}}
    out = st.score_variant({"success_rate": 0.97, "avg_latency_ms": 120.0, "accuracy": None}, metrics)
    assert out["score"] == pytest.approx(1.0 / 1.5)
    assert out["metrics"]["success_rate"]["passed"] is True
    assert out["metrics"]["avg_latency_ms"]["passed"] is False
    assert out["metrics"]["accuracy"]["passed"] is None


def test_assignment_is_sticky_and_matches_the_split():
    variants = [("control", 70.0), ("treatment", 30.0)]
    first = {f"user-{i}": assign_variant("exp1", f"user-{i}", variants) for i in range(20000)}
    assert all(assign_variant("exp1", uid, variants) == v for uid, v in list(first.items())[:2000])
    counts = Counter(first.values())
    assert stats.binomtest(counts["treatment"], 20000, 0.3).pvalue > 0.001
    # Another experiment reshuffles users independently.
    other = [assign_variant("exp2", uid, variants) for uid in list(first)[:5000]]
    agree = sum(o == first[uid] for o, uid in zip(other, list(first)[:5000])) / 5000
    assert agree == pytest.approx(0.7 * 0.7 + 0.3 * 0.3, abs=0.03)


def test_assignment_without_an_id_is_random_with_the_split():
    rng = random.Random(5)
    picks = Counter(assign_variant("exp1", None, [("a", 50.0), ("b", 50.0)], rng=rng) for _ in range(4000))
    assert stats.binomtest(picks["a"], 4000, 0.5).pvalue > 0.001


def _payload(**changes):
    body = {"name": "v1 vs v2", "description": "d", "model_type": "event_classifier",
            "variants": [{"name": "control", "version": "1", "traffic_percentage": 50},
                         {"name": "treatment", "version": 2, "traffic_percentage": 50}],
            "duration_hours": 24, "success_metrics": {"success_rate": {"threshold": 0.95, "weight": 1.0}}}
    body.update(changes)
    return body


@pytest.mark.parametrize("changes, error, field", [
    ({"variants": [{"name": "a", "version": "1", "traffic_percentage": 100}]}, InvalidValue, "variants"),
    ({"variants": [{"name": "a", "version": "1", "traffic_percentage": 50},
                   {"name": "b", "version": "2", "traffic_percentage": 40}]}, InvalidValue, "variants"),
    ({"variants": [{"name": "a", "version": "1", "traffic_percentage": 50},
                   {"name": "a", "version": "2", "traffic_percentage": 50}]}, InvalidValue, "variants"),
    ({"variants": [{"name": "a", "version": "x", "traffic_percentage": 50},
                   {"name": "b", "version": "2", "traffic_percentage": 50}]}, InvalidInput, "variants[0].version"),
    ({"success_metrics": {"happiness": {"threshold": 1, "weight": 1}}}, InvalidInput, "success_metrics.happiness"),
    ({"duration_hours": -1}, InvalidValue, "duration_hours"),
    ({"duration_hours": "soon"}, InvalidInput, "duration_hours"),
    ({"name": ""}, InvalidInput, "name"),
])
def test_parse_experiment_names_the_bad_field(changes, error, field):
    with pytest.raises(error) as info:
        parse_experiment(_payload(**changes), now=0.0)
    assert info.value.details["field"] == field


def test_analysis_reports_collecting_data_then_a_winner():
    experiment = parse_experiment(_payload(), now=0.0)
    assert isinstance(experiment, Experiment) and experiment.variants[1] == Variant("treatment", "2", 50.0)

    def counts(n, s0, s1):
        lat = [5.0, 6.0, 7.0]
        return {"control": {"exposures": n, "successes": s0, "failures": n - s0, "latency_sum_ms": 6.0 * n,
                            "latency_count": n, "feedback": 0, "correct": 0, "latencies": lat},
                "treatment": {"exposures": n, "successes": s1, "failures": n - s1, "latency_sum_ms": 7.0 * n,
                              "latency_count": n, "feedback": 0, "correct": 0, "latencies": lat}}

    early = analyze(experiment, counts(500, 450, 490), AnalysisConfig())
    assert early["winner"] == "collecting data" and early["decision"]["winner"] is None
    assert early["fixedHorizon"]["treatment"]["successRate"]["pValue"] < 0.001  # shown beside, not decisive
    late = analyze(experiment, counts(3000, 2700, 2900), AnalysisConfig())
    assert late["winner"] == "treatment" and "Promote 'treatment'" in late["recommendation"]
    assert late["variants"]["control"]["latencyMs"]["mean"] == pytest.approx(6.0)
    assert late["variants"]["treatment"]["metrics"]["success_rate"]["passed"] is True
