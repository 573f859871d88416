"""The traffic simulator's pure parts: the seeded plan (rates, bursts, mix, users) and the summaries."""

import json

import pytest

from geulpi_tasks.tools.simulation.plan import (
    BURST_CYCLE,
    Kind,
    TrafficConfig,
    plan_counts,
    plan_traffic,
    rate_segments,
)
from geulpi_tasks.tools.simulation.runner import analysis_body, request_event
from geulpi_tasks.tools.simulation.stats import (
    Outcome,
    Tally,
    build_report,
    error_kind,
    format_report,
    latency_summary,
    percentile,
)


def test_the_same_config_gives_the_same_plan_and_another_seed_another():
    config = TrafficConfig(rate=30, duration_s=20, seed=3)
    assert plan_traffic(config, 500) == plan_traffic(config, 500)
    assert plan_traffic(config, 500) != plan_traffic(TrafficConfig(rate=30, duration_s=20, seed=4), 500)


def test_plan_keeps_the_mean_rate_and_the_mix_of_kinds():
    config = TrafficConfig(rate=50, duration_s=200, batch_share=0.1, analysis_share=0.05, feedback_share=0.2)
    plan = plan_traffic(config, 1000)
    assert len(plan) == pytest.approx(50 * 200, rel=0.05)
    assert all(0 <= p.at_s < 200 for p in plan) and [p.at_s for p in plan] == sorted(p.at_s for p in plan)
    counts = plan_counts(plan)
    assert counts["batch"] / len(plan) == pytest.approx(0.10, abs=0.015)
    assert counts["analysis"] / len(plan) == pytest.approx(0.05, abs=0.01)
    assert counts["feedback"] / counts["classify"] == pytest.approx(0.2, abs=0.02)
    assert all(2 <= len(p.events) <= config.max_batch for p in plan if p.kind is Kind.BATCH)
    assert all(len(p.events) == config.analysis_events for p in plan if p.kind is Kind.ANALYSIS)
    assert not any(p.feedback for p in plan if p.kind is not Kind.CLASSIFY)


def test_users_are_skewed_but_many_are_seen():
    plan = plan_traffic(TrafficConfig(users=200, rate=100, duration_s=100), 1000)
    per_user: dict[str, int] = {}
    for p in plan:
        per_user[p.user_id] = per_user.get(p.user_id, 0) + 1
    assert len(per_user) == 200
    assert per_user["sim-user-00000"] > 10 * per_user["sim-user-00199"]


def test_bursts_have_idle_gaps_and_busy_peaks_with_the_same_mean():
    config = TrafficConfig(rate=20, duration_s=400, bursts=True)
    segments = rate_segments(config)
    mean = sum((end - start) * rate for start, end, rate in segments) / config.duration_s
    assert mean == pytest.approx(20.0)
    normal = 20 / (sum(d * f for d, f in BURST_CYCLE) / sum(d for d, _ in BURST_CYCLE))
    assert {rate for *_, rate in segments} == {0.0, normal, 4 * normal}
    plan = plan_traffic(config, 500)
    idle = [(s, e) for s, e, r in segments if r == 0]
    assert idle and not any(s <= p.at_s < e for p in plan for s, e in idle)
    per_second = [0] * 400
    for p in plan:
        per_second[int(p.at_s)] += 1
    assert max(per_second) > 3 * 20 and len(plan) == pytest.approx(20 * 400, rel=0.05)


@pytest.mark.parametrize("field, value", [("users", 0), ("rate", 0), ("duration_s", -1), ("feedback_share", 1.5),
                                          ("max_batch", 1), ("batch_share", 0.9)])
def test_bad_config_is_a_value_error(field, value):
    config = TrafficConfig(**{field: value, **({"analysis_share": 0.2} if field == "batch_share" else {})})
    with pytest.raises(ValueError):
        plan_traffic(config, 1000)


def test_percentile_matches_linear_interpolation():
    values = sorted([5.0, 1.0, 3.0, 2.0, 4.0])
    assert percentile(values, 50) == 3.0
    assert percentile(values, 90) == pytest.approx(4.6)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile([], 50) is None
    summary = latency_summary([10.0, 20.0, 30.0])
    assert summary == {"count": 3, "p50": 20.0, "p90": 28.0, "p99": pytest.approx(29.8), "max": 30.0, "mean": 20.0}


def test_error_kinds_name_the_status_or_the_transport_failure():
    assert error_kind(200) is None and error_kind(201) is None
    assert error_kind(503) == "http_503" and error_kind(504) == "http_504"
    assert error_kind(None, TimeoutError()) == "timeout"
    assert error_kind(None, ConnectionRefusedError()) == "connection"


def test_report_counts_errors_latency_accuracy_and_timeline():
    tally = Tally()
    tally.add(Outcome("classify", 0.2, 10.0, 200, None, labelled=1, correct=1, variant="control"))
    tally.add(Outcome("classify", 0.7, 30.0, 200, None, labelled=1, correct=0, variant="challenger"))
    tally.add(Outcome("batch", 1.1, 50.0, 200, None, labelled=4, correct=3))
    tally.add(Outcome("classify", 1.5, 2.0, 503, "http_503"))
    tally.add(Outcome("feedback", 2.0, 15000.0, None, "timeout"))
    line = tally.summary_line(2.5)
    assert line.startswith("reqs 5 ok 3 err 2 (http_503 1 timeout 1) p50 30.0 ms") and "acc 66.7%" in line
    report = build_report(tally.outcomes(), elapsed_s=2.5, config={"rate": 2})
    assert report["requests"] == 5 and report["ok"] == 3 and report["throughputRps"] == 2.0
    assert report["errors"] == {"total": 2, "byKind": {"http_503": 1, "timeout": 1}}
    assert report["statuses"] == {"200": 3, "503": 1, "none": 1}
    assert report["byKind"]["classify"]["requests"] == 3 and report["byKind"]["classify"]["ok"] == 2
    assert report["latencyMs"]["ok"]["max"] == 50.0 and report["latencyMs"]["all"]["max"] == 15000.0
    assert report["accuracy"] == {"labelled": 6, "correct": 4, "rate": pytest.approx(4 / 6),
                                  "generated": {"labelled": 6, "correct": 4, "rate": pytest.approx(4 / 6)},
                                  "realistic": {"labelled": 0, "correct": 0, "rate": None}}
    assert report["variants"] == {"control": 1, "challenger": 1}
    assert [(r["second"], r["requests"], r["ok"], r["errors"]) for r in report["timeline"]] == [
        (0, 2, 2, {}), (1, 2, 1, {"http_503": 1}), (2, 1, 0, {"timeout": 1})]
    json.dumps(report)
    assert "accuracy vs true labels 66.67%" in format_report(report)


def test_requests_carry_no_labels_and_analyses_cover_the_last_week():
    from datetime import datetime

    event = {"title": "standup", "startTime": "2025-03-04T09:30:00", "endTime": "2025-03-04T10:00:00",
             "category": "WORK", "priority": "MEDIUM", "lang": "en"}
    assert request_event(event, "u1") == {"title": "standup", "startTime": "2025-03-04T09:30:00",
                                          "endTime": "2025-03-04T10:00:00", "userId": "u1"}
    body = analysis_body("/analyze-balance", "u1", [event] * 8, datetime(2026, 5, 10, 15, 0))
    assert body["startDate"] == "2026-05-03" and body["endDate"] == "2026-05-09"
    starts = [datetime.fromisoformat(e["startTime"]) for e in body["events"]]
    assert all(datetime(2026, 5, 3) <= s < datetime(2026, 5, 10) and (s.hour, s.minute) == (9, 30) for s in starts)
    assert all("category" not in e and e["endTime"].endswith("10:00:00") for e in body["events"])
    assert len({e["eventId"] for e in body["events"]}) == 8


def test_accuracy_is_reported_separately_on_realistic_and_generated_events():
    tally = Tally()
    tally.add(Outcome("batch", 0.1, 5.0, 200, None, labelled=5, correct=4, realistic_labelled=2, realistic_correct=1))
    tally.add(Outcome("classify", 0.2, 5.0, 200, None, labelled=1, correct=1, realistic_labelled=1,
                      realistic_correct=1))
    acc = build_report(tally.outcomes(), elapsed_s=1.0, config={})["accuracy"]
    assert acc["realistic"] == {"labelled": 3, "correct": 2, "rate": pytest.approx(2 / 3)}
    assert acc["generated"] == {"labelled": 3, "correct": 3, "rate": 1.0}
    assert "on realistic events 66.67% (2/3)" in format_report(build_report(tally.outcomes(), elapsed_s=1.0,
                                                                            config={}))
