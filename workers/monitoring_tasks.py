"""Monitoring-queue tasks run by Beat: the drift scan (every 15 min) and the alert evaluation (every minute)."""

from __future__ import annotations

import time
from typing import Any

from geulpi_tasks.errors import GeulpiError, InvalidInput, InvalidValue, RemoteError, Unavailable, error_to_wire
from geulpi_tasks.monitoring.drift_scan import scan_drift as scan_drift_domain
from geulpi_tasks.monitoring.monitor import Monitor
from geulpi_tasks.monitoring.reference import load_reference, rebuild_from_generator
from geulpi_tasks.settings import Settings
from workers.celery_app import app, settings_of
from workers.task_names import EVALUATE_ALERTS, SCAN_DRIFT

RETRY_DELAYS_S = (10, 30, 90)


def _model_name(value: Any, settings: Settings) -> str:
    if value is None:
        return settings.model_name
    if not isinstance(value, str) or not value:
        raise InvalidInput("'model_name' must be a non-empty string.", field="model_name")
    return value


def _run(task: Any, fn: Any) -> Any:
    """Registry/Redis outages retry with backoff; other domain errors fail the job with {code, message}."""
    try:
        return fn()
    except Unavailable as err:
        retries = task.request.retries
        if retries < len(RETRY_DELAYS_S):
            raise task.retry(exc=RemoteError(error_to_wire(err)), countdown=RETRY_DELAYS_S[retries]) from err
        raise RemoteError(error_to_wire(err)) from err
    except GeulpiError as err:
        raise RemoteError(error_to_wire(err)) from err


@app.task(name=SCAN_DRIFT, bind=True, max_retries=len(RETRY_DELAYS_S))
def scan_drift(self: Any, model_name: str | None = None, window_s: float | None = None,
               since: float | None = None) -> dict[str, Any]:
    """Beat calls it bare (configured window); ``window_s`` or ``since`` (epoch seconds) narrow it on demand."""
    settings = settings_of(app)
    name = _run(self, lambda: _model_name(model_name, settings))
    now = time.time()
    for field, value in (("window_s", window_s), ("since", since)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise RemoteError(error_to_wire(InvalidInput(f"'{field}' must be a number.", field=field)))
    window = (now - since) if since is not None else (window_s or settings.drift_window_s)
    if not 0 < window <= 7 * 86400:
        raise RemoteError(error_to_wire(InvalidValue("The scan window must be between 0 and 604800 seconds.",
                                                     field="since" if since is not None else "window_s")))
    client = app.backend.client

    def reference(version: str) -> dict[str, Any]:
        return load_reference(client, settings.key_prefix, tracking_uri=settings.effective_tracking_uri,
                              model_name=name, version=version,
                              rebuild=lambda: rebuild_from_generator(settings.bootstrap_samples, settings.seed))

    return _run(self, lambda: scan_drift_domain(client, settings.key_prefix, model_name=name,  # type: ignore[no-any-return]
                                                load_reference=reference,
                                                window_s=window, now=now,
                                                min_samples=settings.drift_min_samples))


@app.task(name=EVALUATE_ALERTS, bind=True, max_retries=len(RETRY_DELAYS_S))
def evaluate_alerts(self: Any, model_name: str | None = None) -> dict[str, Any]:
    settings = settings_of(app)
    name = _run(self, lambda: _model_name(model_name, settings))
    monitor = Monitor(app.backend.client, settings.key_prefix, name, webhook_url=settings.alert_webhook_url)
    transitions = _run(self, monitor.evaluate)
    return {"model_name": name, "transitions": transitions, "active": monitor.active_alerts()}
