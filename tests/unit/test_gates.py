"""Promotion gates, semantic versions and the comparison statistics: pure functions, no registry."""

import numpy as np
import pytest

from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.registry.compare import _recommend, mcnemar_p
from geulpi_tasks.registry.gates import PromotionGates, check_gates, compare_with_production
from geulpi_tasks.registry.lifecycle import bump_semver, parse_semver, parse_stage
from geulpi_tasks.registry.store import Stage

PASSING = {"realistic_dev_accuracy": 0.95, "realistic_dev_macro_precision": 0.9, "realistic_dev_macro_recall": 0.9}


def test_metrics_above_every_gate_pass():
    assert check_gates(PASSING, PromotionGates()) == []


def test_each_failing_gate_is_named_with_its_value():
    reasons = check_gates({"realistic_dev_accuracy": 0.79, "realistic_dev_macro_precision": 0.74,
                           "realistic_dev_macro_recall": 0.9, "accuracy": 0.99}, PromotionGates())
    assert len(reasons) == 2
    assert "realistic_dev_accuracy 0.7900 is below the gate" in reasons[0]
    assert "realistic_dev_macro_precision" in reasons[1]


def test_missing_metric_fails_the_gate():
    # The generator's accuracy alone never passes: the gates read the realistic figures.
    reasons = check_gates({"realistic_dev_accuracy": 0.99, "accuracy": 0.99, "macro_precision": 0.99,
                           "macro_recall": 0.99}, PromotionGates())
    assert [r.split()[0] for r in reasons] == ["realistic_dev_macro_precision", "realistic_dev_macro_recall"]


def test_gates_are_configurable():
    assert check_gates({"realistic_dev_accuracy": 0.8, "realistic_dev_macro_precision": 0.7,
                        "realistic_dev_macro_recall": 0.7},
                       PromotionGates(min_accuracy=0.8, min_macro_precision=0.7, min_macro_recall=0.7)) == []


@pytest.mark.parametrize("bad", [1.5, -0.1, "0.9", True])
def test_gate_outside_zero_one_is_rejected(bad):
    with pytest.raises(InvalidValue) as err:
        PromotionGates(min_accuracy=bad)
    assert err.value.field == "min_accuracy"


def test_candidate_worse_than_production_is_refused_and_equal_is_not():
    assert compare_with_production(0.93, 0.94, 0.0) is not None
    assert compare_with_production(0.94, 0.94, 0.0) is None
    assert compare_with_production(0.935, 0.94, 0.01) is None
    assert compare_with_production(0.5, None, 0.0) is None


@pytest.mark.parametrize("existing, kwargs, expected", [
    ([], {"schema_changed": False, "kind": "retrain"}, "1.0.0"),
    (["1.0.0"], {"schema_changed": False, "kind": "retrain"}, "1.1.0"),
    (["1.0.0", "1.1.0"], {"schema_changed": False, "kind": "compress"}, "1.1.1"),
    (["1.0.0", "1.1.0", "1.1.1"], {"schema_changed": False, "kind": "compress"}, "1.1.2"),
    (["1.0.0", "1.1.2"], {"schema_changed": False, "kind": "retrain"}, "1.2.0"),
    (["1.3.1", None, "junk"], {"schema_changed": True, "kind": "retrain"}, "2.0.0"),
    # compressing an older version: patch above every version sharing its major.minor, never a collision
    (["1.0.0", "1.0.1", "1.1.0"], {"schema_changed": False, "kind": "compress", "base": "1.0.0"}, "1.0.2"),
    (["1.0.0", "1.1.0", "2.0.0"], {"schema_changed": False, "kind": "retrain", "base": "1.1.0"}, "1.2.0"),
])
def test_semver_bumps(existing, kwargs, expected):
    assert bump_semver(existing, **kwargs) == expected


def test_unknown_semver_kind_is_invalid_input():
    with pytest.raises(InvalidInput) as err:
        bump_semver(["1.0.0"], schema_changed=False, kind="polish")
    assert err.value.field == "kind"


def test_parse_semver_accepts_only_three_numbers():
    assert parse_semver("2.10.3") == (2, 10, 3)
    assert parse_semver("2.10") is None and parse_semver(None) is None and parse_semver("v1.0.0") is None


def test_stage_names_are_case_insensitive_and_none_is_refused():
    assert parse_stage("production") is Stage.PRODUCTION and parse_stage(" Staging ") is Stage.STAGING
    for bad in ("None", "Live", "", None, 3):
        with pytest.raises(InvalidInput) as err:
            parse_stage(bad)
        assert err.value.field == "target_stage"


def test_mcnemar_counts_only_discordant_pairs():
    a = np.array([True] * 90 + [False] * 10)
    assert mcnemar_p(a, a.copy()) == 1.0
    b = np.array([True] * 60 + [False] * 40)
    # 30 events only a gets right, none only b: p = 2 * 0.5**30
    assert mcnemar_p(a, b) == pytest.approx(2 * 0.5 ** 30)


def test_recommendation_keeps_production_when_difference_is_not_significant():
    a = {"accuracy": 0.91, "log_loss": 0.30, "rows": 500}
    b = {"accuracy": 0.92, "log_loss": 0.25, "rows": 500}
    version, reason = _recommend("1", a, "2", b, 0.4, production_version="1")
    assert version == "1" and "not a significant difference" in reason
    version, _ = _recommend("1", a, "2", b, 0.4, production_version=None)
    assert version == "2"  # lower log-loss
    version, reason = _recommend("1", a, "2", b, 0.001, production_version="1")
    assert version == "2" and "more accurate" in reason
