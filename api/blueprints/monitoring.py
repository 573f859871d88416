"""Monitoring endpoints: Prometheus metrics, alerts and their rules, and the model dashboard."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, g, request
from flask.blueprints import BlueprintSetupState

from api.http import json_body, redis_client, settings
from api.operations import Answer, operation, ref
from api.queries import AlertHistoryQuery, AlertsQuery
from api.schema import AlertStatus, Dashboard
from api.state import api_state
from celeryconfig import is_amqp
from geulpi_tasks.errors import NotFound
from geulpi_tasks.models.explain import IMPORTANCE_ARTIFACT
from geulpi_tasks.monitoring.alerts import AlertRule, parse_alert
from geulpi_tasks.monitoring.cost import cost_summary, read_cost_counters
from geulpi_tasks.monitoring.dashboard import build_dashboard
from geulpi_tasks.monitoring.metrics import (
    CONTENT_TYPE,
    StateCollector,
    broker_queue_depths,
    configure_metrics_dir,
    instruments,
    render_metrics,
)
from geulpi_tasks.monitoring.monitor import Monitor
from geulpi_tasks.registry.store import find_version_by_alias, run_json_artifact, run_metrics
from workers.task_names import QUEUES

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")

# Requests whose round trip (HTTP in -> answer out) is a prediction's end-to-end time.
_PREDICTION_ENDPOINTS = {"classify.classify_event", "classify.classify_events"}

_ALERTS = {"type": "object", "required": ["model_name", "alerts"], "properties": {
    "model_name": {"type": "string"}, "alerts": {"type": "array", "items": ref(AlertStatus)}}}
_HISTORY = {"type": "object", "properties": {"history": {"type": "array", "items": ref(AlertStatus)}}}
_RULES = {"type": "object", "properties": {"rules": {"type": "array", "items": ref(AlertRule)}}}
_RULE_LOCATION = {"Location": {"required": True, "schema": {"type": "string"}, "description": "The new rule"}}


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    configure_metrics_dir(api_state(state.app).settings.effective_metrics_dir)


@bp.before_app_request
def _start_clock() -> None:
    g.geulpi_started = time.perf_counter()


@bp.after_app_request
def _observe_round_trip(response: Response) -> Response:
    started = g.get("geulpi_started")
    if started is not None and request.endpoint in _PREDICTION_ENDPOINTS and response.status_code == 200:
        instruments().prediction_duration.labels(settings().model_name, "round_trip").observe(
            time.perf_counter() - started)
    return response


def _redis() -> Any:
    return redis_client("Monitoring")


def _monitor(model_name: str | None = None) -> Monitor:
    s = settings()
    return Monitor(_redis(), s.key_prefix, model_name or s.model_name, webhook_url=s.alert_webhook_url)


@bp.get("/metrics")
@operation("monitoringMetrics", "Prometheus text exposition of every process (multiprocess counters, histograms, queue "
           "depth, drift scores, online accuracy)",
           answers={200: Answer("Prometheus text format 0.0.4", {"type": "string"}, media_type="text/plain")})
def metrics() -> Any:
    s = settings()
    depths = None
    if is_amqp(s.effective_broker_url):  # RabbitMQ knows its queue lengths; Redis lists are read directly
        celery = api_state().celery
        depths = lambda queues: broker_queue_depths(celery.connection_for_read(), queues)  # noqa: E731
    state = None if s.disable_redis else StateCollector(
        _redis(), key_prefix=s.key_prefix, queues=QUEUES, model_names=[s.model_name],
        accuracy_window_s=s.dashboard_hours * 3600, queue_depths=depths)
    return Response(render_metrics(s.effective_metrics_dir, state), mimetype=None, content_type=CONTENT_TYPE)


@bp.get("/alerts")
@operation("monitoringAlerts", "Active (pending and firing) alerts of a model with value, severity and message",
           query=AlertsQuery, answers={200: Answer("Active alerts", _ALERTS)}, errors=(503,))
def active_alerts(query: AlertsQuery) -> Any:
    monitor = _monitor(query.model)
    return {"model_name": monitor.model_name, "alerts": monitor.active_alerts()}


@bp.get("/alerts/history")
@operation("monitoringAlertHistory", "Alert state transitions, newest first", query=AlertHistoryQuery,
           answers={200: Answer("Transitions", _HISTORY)}, errors=(503,))
def alert_history(query: AlertHistoryQuery) -> Any:
    return {"history": _monitor().history(query.limit)}


@bp.get("/alerts/rules")
@operation("listAlertRules", "Built-in and custom alert rules", answers={200: Answer("Rules", _RULES)}, errors=(503,))
def list_rules() -> Any:
    return {"rules": [a.to_dict() for a in _monitor().list_alerts()]}


@bp.post("/alerts/rules")
@operation("createAlertRule", "Create a custom alert rule", body=AlertRule, errors=(409, 413, 422, 503),
           answers={201: Answer("Created", AlertRule, headers=_RULE_LOCATION)})
def create_rule() -> Any:
    alert = parse_alert(json_body())
    return _monitor().add_alert(alert).to_dict(), 201, {"Location": f"/monitoring/alerts/rules/{alert.name}"}


@bp.get("/alerts/rules/<name>")
@operation("getAlertRule", "One alert rule", answers={200: Answer("Rule", AlertRule)}, errors=(404, 503))
def get_rule(name: str) -> Any:
    return _monitor().get_alert(name).to_dict()


@bp.delete("/alerts/rules/<name>")
@operation("deleteAlertRule", "Delete a custom alert rule (built-in rules answer 409)",
           answers={204: Answer("Deleted")}, errors=(404, 409, 503))
def delete_rule(name: str) -> Any:
    _monitor().delete_alert(name)
    return "", 204


@bp.get("/dashboard/<model_name>")
@operation("monitoringDashboard", "Model dashboard: version, health, statistics, hourly trend, active alerts, drift",
           answers={200: Answer("Dashboard", Dashboard)}, errors=(404, 503))
def dashboard(model_name: str) -> Any:
    s = settings()
    monitor = _monitor(model_name)
    production = find_version_by_alias(s.effective_tracking_uri, model_name)
    run_id = production.run_id if production else None
    body = build_dashboard(monitor, current_version=production.version if production else None,
                           hours=s.dashboard_hours,
                           version_metrics=run_metrics(s.effective_tracking_uri, run_id) if run_id else None,
                           importance=run_json_artifact(s.effective_tracking_uri, run_id, IMPORTANCE_ARTIFACT)
                           if run_id else None,
                           cost=cost_summary(read_cost_counters(s.effective_metrics_dir)))
    if production is None and body["statistics"]["total_predictions"] == 0:
        raise NotFound(f"No model '{model_name}' in production and no predictions of it in the last "
                       f"{s.dashboard_hours} h.", details={"model_name": model_name})
    return body
