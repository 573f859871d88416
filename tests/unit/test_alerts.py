"""Alert rules: validation, the pending → firing → resolved state machine, webhook payloads, and the Prometheus
rules file shipped under deploy/ (checked with promtool when it is installed)."""

import shutil
import subprocess

import pytest
import yaml

from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.monitoring.alerts import (
    Alert,
    AlertState,
    RuleState,
    default_alerts,
    next_state,
    parse_alert,
)
from geulpi_tasks.monitoring.webhook import alertmanager_payload
from geulpi_tasks.settings import PROJECT_ROOT

RULES_DIR = PROJECT_ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install -y prometheus)")


def test_seed_style_alert_renders_its_message():
    alert = Alert(name="custom_accuracy_alert", metric_name="accuracy", condition="<", threshold=0.90,
                  window_seconds=300, severity="critical", message_template="Model accuracy dropped to {value:.2%}")
    assert alert.holds(0.85) and not alert.holds(0.95) and not alert.holds(None)
    assert alert.render(0.8512, "event_classifier") == "Model accuracy dropped to 85.12%"


@pytest.mark.parametrize("payload, field, error", [
    ({"metric_name": "accuracy", "condition": "<", "threshold": 1}, "name", InvalidInput),
    ({"name": "a b", "metric_name": "accuracy", "condition": "<", "threshold": 1}, "name", InvalidInput),
    ({"name": "a", "metric_name": "cpu", "condition": "<", "threshold": 1}, "metric_name", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "=<", "threshold": 1}, "condition", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "<"}, "threshold", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": "x"}, "threshold", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": True}, "threshold", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": 1, "window_seconds": 0},
     "window_seconds", InvalidValue),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": 1, "for_seconds": -1},
     "for_seconds", InvalidValue),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": 1, "severity": "page"},
     "severity", InvalidInput),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": 1, "message_template": "{nope}"},
     "message_template", InvalidValue),
    ({"name": "a", "metric_name": "accuracy", "condition": "<", "threshold": 1, "colour": "red"}, "colour",
     InvalidInput),
])
def test_invalid_rules_name_the_field(payload, field, error):
    with pytest.raises(error) as info:
        parse_alert(payload)
    assert info.value.details["field"] == field


def test_state_machine_pending_firing_resolved_and_back():
    s = RuleState()
    s = next_state(s, True, now=100.0, for_seconds=60, value=1.0)
    assert s.state is AlertState.PENDING and s.active_since == 100.0
    s = next_state(s, True, now=130.0, for_seconds=60, value=1.0)
    assert s.state is AlertState.PENDING
    s = next_state(s, True, now=160.0, for_seconds=60, value=2.0)
    assert s.state is AlertState.FIRING and s.fired_at == 160.0 and s.value == 2.0
    s = next_state(s, False, now=220.0, for_seconds=60, value=0.1)
    assert s.state is AlertState.RESOLVED and s.resolved_at == 220.0
    s = next_state(s, False, now=280.0, for_seconds=60, value=0.1)
    assert s.state is AlertState.RESOLVED
    s = next_state(s, True, now=340.0, for_seconds=60, value=3.0)
    assert s.state is AlertState.PENDING and s.active_since == 340.0 and s.fired_at is None


def test_pending_that_stops_holding_goes_back_to_inactive():
    s = next_state(RuleState(), True, now=0.0, for_seconds=60, value=1.0)
    s = next_state(s, False, now=30.0, for_seconds=60, value=0.0)
    assert s.state is AlertState.INACTIVE and s.active_since is None


def test_zero_for_fires_at_once():
    assert next_state(RuleState(), True, now=5.0, for_seconds=0, value=1.0).state is AlertState.FIRING


def test_alertmanager_payload_shape():
    base = {"name": "high_latency", "model_name": "m", "metric_name": "avg_latency_ms", "severity": "warning",
            "message": "slow", "value": 150.0, "active_since": 0.0}
    body = alertmanager_payload([{**base, "state": "firing", "resolved_at": None},
                                 {**base, "name": "x", "state": "resolved", "resolved_at": 60.0}])
    assert body["version"] == "4" and body["status"] == "firing"
    assert [a["status"] for a in body["alerts"]] == ["firing", "resolved"]
    assert body["alerts"][0]["labels"]["alertname"] == "high_latency"
    assert body["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert body["alerts"][1]["endsAt"] == "1970-01-01T00:01:00Z"
    assert body["commonLabels"] == {"severity": "warning", "model_name": "m", "metric_name": "avg_latency_ms"}


def test_rules_file_carries_the_same_defaults():
    rules = {r["alert"]: r for r in yaml.safe_load((RULES_DIR / "rules.yml").read_text())["groups"][0]["rules"]
             if "alert" in r}
    defaults = {a.name: a for a in default_alerts()}
    assert rules["LowSuccessRate"]["expr"].endswith("< 0.95") and defaults["low_success_rate"].threshold == 0.95
    assert rules["HighLatency"]["expr"].endswith("> 100") and defaults["high_latency"].threshold == 100
    assert rules["ModelDrift"]["expr"].endswith("> 0.15") and defaults["model_drift"].threshold == 0.15
    assert rules["LowSuccessRate"]["for"] == "2m" and defaults["low_success_rate"].for_seconds == 120
    assert rules["HighLatency"]["labels"]["severity"] == defaults["high_latency"].severity


@needs_promtool
def test_promtool_checks_and_unit_tests_the_rules():
    check = subprocess.run([PROMTOOL, "check", "rules", "rules.yml"], cwd=RULES_DIR, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run([PROMTOOL, "test", "rules", "rules_test.yml"], cwd=RULES_DIR, capture_output=True,
                          text=True)
    assert test.returncode == 0, test.stdout + test.stderr
