"""Drift statistics on seeded samples and on generated calendar events (no I/O)."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.monitoring.drift import (
    categorical_drift,
    class_mix_distance,
    detect_drift,
    numeric_drift,
    population_stability_index,
)
from geulpi_tasks.monitoring.prediction_log import summarize_event
from geulpi_tasks.monitoring.reference import build_reference


def test_small_reference_uses_ks_and_flags_only_a_real_shift():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 400)
    same = numeric_drift("x", ref, rng.normal(0, 1, 400))
    shifted = numeric_drift("x", ref, rng.normal(0.5, 1, 400))
    assert same.method == shifted.method == "ks"
    assert not same.drifted and same.p_value >= 0.05
    assert shifted.drifted and shifted.p_value < 1e-6


def test_large_reference_uses_normalised_wasserstein():
    rng = np.random.default_rng(1)
    ref = rng.normal(10, 2, 5000)
    same = numeric_drift("x", ref, rng.normal(10, 2, 500))
    shifted = numeric_drift("x", ref, rng.normal(11, 2, 500))  # half a standard deviation
    assert same.method == "wasserstein_normed" and same.p_value is None
    assert same.statistic < 0.1 and not same.drifted
    assert shifted.drifted and shifted.statistic == pytest.approx(0.5, abs=0.1)


def test_categorical_small_uses_chi_square_large_uses_jensen_shannon():
    small = categorical_drift("lang", {"en": 300, "ko": 200}, {"en": 50, "ko": 150})
    assert small.method == "chi2" and small.drifted and small.p_value < 0.001
    calm = categorical_drift("lang", {"en": 300, "ko": 200}, {"en": 61, "ko": 39})
    assert not calm.drifted
    large = categorical_drift("lang", {"en": 3000, "ko": 2000}, {"ko": 100})
    assert large.method == "jensen_shannon" and large.drifted and 0.5 < large.statistic <= 1.0
    assert not categorical_drift("lang", {"en": 3000, "ko": 2000}, {"en": 60, "ko": 40}).drifted


def test_psi_is_zero_for_equal_mixes_and_matches_the_formula():
    share = np.array([0.25, 0.25, 0.5])
    assert population_stability_index(share, share) == 0.0
    cur = np.array([0.5, 0.25, 0.25])
    expected = (0.5 - 0.25) * np.log(0.5 / 0.25) + (0.25 - 0.5) * np.log(0.25 / 0.5)
    assert population_stability_index(share, cur) == pytest.approx(expected)


def test_class_mix_distance_bounds():
    assert class_mix_distance({"A": 5, "B": 5}, {"A": 1, "B": 1}) == pytest.approx(0.0)
    assert class_mix_distance({"A": 5}, {"B": 5}) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def reference():
    train, _val, _test = split_events(generate_events(3000, seed=11), seed=11)
    return build_reference(train)


def _window(events):
    return [summarize_event(e) for e in events], [e["category"] for e in events]


def test_reference_distribution_does_not_drift(reference):
    window, classes = _window(generate_events(500, seed=12))
    report = detect_drift(reference, window, classes)
    assert report["drift_detected"] is False, report["drifted_features"]
    assert report["feature_score"] <= 0.15 and report["prediction"]["drifted"] is False


def _late_night_korean_long(events):
    shifted = []
    for e in events:
        start = datetime.fromisoformat(e["startTime"]).replace(hour=23, minute=30)
        shifted.append({**e, "startTime": start.isoformat(), "endTime": (start + timedelta(hours=6)).isoformat()})
    return shifted


def test_late_night_korean_long_events_drift(reference):
    korean = [e for e in generate_events(1500, seed=13) if e["lang"] == "ko"][:400]
    window, classes = _window(_late_night_korean_long(korean))
    report = detect_drift(reference, window, classes)
    assert report["drift_detected"] is True
    assert {"hour", "log_duration_min", "lang"} <= set(report["drifted_features"])
    assert report["feature_score"] > 0.15
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["hour"]["psi"] > 0.25 and by_name["lang"]["method"] == "jensen_shannon"


def test_empty_window_is_refused(reference):
    with pytest.raises(ValueError):
        detect_drift(reference, [], [])
