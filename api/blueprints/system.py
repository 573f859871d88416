"""Health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api.health import check_system
from api.http import settings
from api.openapi import openapi_document
from api.operations import Answer, operation
from api.schema import Health
from api.state import api_state

bp = Blueprint("system", __name__)


@bp.get("/health")
@operation("health", "200 when broker, result backend, registry and an inference worker all answer",
           answers={200: Answer("Healthy", Health), 503: Answer("A part failed", Health)})
def health() -> Any:
    s = settings()
    if s.disable_redis:
        return {"status": "limited", "mode": "DISABLE_REDIS", "checks": {}}, 200
    report = check_system(api_state().celery, tracking_uri=s.effective_tracking_uri,
                          model_name=s.model_name, ping_timeout=s.health_ping_timeout_s)
    return report, (200 if report["status"] == "ok" else 503)


@bp.get("/openapi.json")
@operation("openapi", "This document", answers={200: Answer("OpenAPI document", {"type": "object"})})
def openapi() -> Any:
    return openapi_document(current_app)
