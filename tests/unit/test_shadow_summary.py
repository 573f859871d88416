"""The shadow summary from its counters: agreement per class sums to the scored events, confidence shift, latency
and feedback accuracy of both versions."""

from geulpi_tasks.shadow.store import ShadowDeployment
from geulpi_tasks.shadow.summary import summarize

DEPLOYMENT = ShadowDeployment("s1", "event_classifier", "2", "1", 100.0)


def test_agreement_per_class_and_the_figures_add_up():
    evidence = {
        "counts": {"scored": 10.0, "failed": 1.0, "dropped": 2.0, "latency_count": 4.0,
                   "production_latency_sum_ms": 4.0, "shadow_latency_sum_ms": 8.0,
                   "production_confidence_sum": 9.0, "shadow_confidence_sum": 7.0, "confidence_abs_shift_sum": 2.5,
                   "feedback": 4.0, "production_correct": 3.0, "shadow_correct": 1.0},
        "classes": {"WORK|WORK": 5, "WORK|PERSONAL": 1, "HEALTH|HEALTH": 3, "HEALTH|WORK": 1},
        "latency": {"production": [1.0, 1.0, 1.0, 1.0], "shadow": [1.0, 2.0, 2.0, 3.0]},
    }
    summary = summarize(DEPLOYMENT, evidence)
    assert summary["events"] == {"observed": 13, "scored": 10, "failed": 1, "dropped": 2}
    assert summary["agreement"]["agreed"] == 8 and summary["agreement"]["rate"] == 0.8
    work = summary["agreement"]["perClass"]["WORK"]
    assert work == {"events": 6, "agreed": 5, "rate": 5 / 6, "shadowAnswers": {"WORK": 5, "PERSONAL": 1}}
    assert sum(c["events"] for c in summary["agreement"]["perClass"].values()) == 10
    assert abs(summary["confidence"]["shift"] - (-0.2)) < 1e-9 and summary["confidence"]["meanAbsoluteShift"] == 0.25
    assert summary["latencyMs"]["shadow"]["mean"] == 2.0 and summary["latencyMs"]["shadow"]["p50"] == 2.0
    assert summary["feedback"]["productionAccuracy"] == 0.75 and summary["feedback"]["shadowAccuracy"] == 0.25


def test_a_shadow_that_scored_nothing_has_no_rates():
    summary = summarize(DEPLOYMENT, {"counts": {}, "classes": {}, "latency": {"production": [], "shadow": []}})
    assert summary["agreement"]["rate"] is None and summary["confidence"]["shift"] is None
    assert summary["latencyMs"]["production"]["p50"] is None and summary["feedback"]["shadowAccuracy"] is None
