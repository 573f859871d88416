"""Flask app factory: the HTTP front door. Handlers translate HTTP to domain or task calls and back."""

from __future__ import annotations

from typing import Any

from celery import Celery
from flask import Flask

from api.audit_trail import register_audit
from api.auth import register_auth
from api.blueprints import analyses, approvals, classify, docs, system, tasks
from api.blueprints import experiments as experiments_blueprint
from api.blueprints import feedback as feedback_blueprint
from api.blueprints import models as models_blueprint
from api.blueprints import monitoring as monitoring_blueprint
from api.blueprints import privacy as privacy_blueprint
from api.blueprints import shadow as shadow_blueprint
from api.blueprints import training as training_blueprint
from api.blueprints.classify import SINGLE_CLASSIFICATION_PATHS
from api.coalescer import Coalescer
from api.errors import register_error_handlers
from api.gateway import TaskGateway
from api.http import register_body_check
from api.json_provider import FastJSONProvider
from api.limits import LIMITED_BLUEPRINTS, register_limits
from api.state import ApiState, init_state
from api.telemetry import register_telemetry
from geulpi_tasks.observability.logs import configure_logging
from geulpi_tasks.privacy.redaction import redaction_secret
from geulpi_tasks.process_heap import settle_heap
from geulpi_tasks.settings import Settings
from workers.celery_app import app as task_app
from workers.celery_app import configure, create_celery


def create_app(settings: Settings | None = None, celery: Celery | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if settings.disable_redis:
        # Limited mode: tasks run in this process on the app they are registered with.
        celery = configure(task_app, settings)
    elif celery is None:
        celery = create_celery(settings)
    app = Flask("geulpi_api", static_folder=docs.ASSETS_DIR, static_url_path=docs.ASSETS_URL)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json = FastJSONProvider(app)
    gateway = TaskGateway(celery, key_prefix=settings.key_prefix, in_process=settings.disable_redis,
                          breaker_cooldown_s=settings.breaker_cooldown_s,
                          ping_timeout_s=settings.health_ping_timeout_s,
                          redaction_secret=None if settings.flower_full_args else redaction_secret(
                              settings.redaction_key, settings.api_key_list),
                          read_result_ttl_s=settings.classify_result_ttl_s, job_result_ttl_s=settings.job_result_ttl_s)
    coalescer = None if settings.disable_redis or settings.coalesce_max < 2 else Coalescer(
        gateway, window_s=settings.coalesce_window_ms / 1000.0, max_size=settings.coalesce_max,
        max_in_flight=settings.coalesce_in_flight)
    state = ApiState(settings=settings, celery=celery, gateway=gateway, coalescer=coalescer)
    init_state(app, state)
    state.auth = register_auth(app, settings)
    register_body_check(app)  # after the key check: a caller without a key never gets its body parsed
    register_audit(app)
    blueprints = (classify.bp, analyses.bp, tasks.bp, system.bp, docs.bp, models_blueprint.bp, feedback_blueprint.bp,
                  experiments_blueprint.bp, monitoring_blueprint.bp, training_blueprint.bp, privacy_blueprint.bp,
                  approvals.bp, shadow_blueprint.bp)
    # After the API-key check, so a caller without a valid key gets 401 and costs no limit.
    limited = {bp.name: bp for bp in blueprints if bp.name in LIMITED_BLUEPRINTS}
    state.limiter = register_limits(app, settings, limited)

    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_telemetry(app, settings)
    if coalescer is not None:  # outermost: a call counts as on its way from the moment it enters the app
        app.wsgi_app = coalescer.counting(app.wsgi_app, SINGLE_CLASSIFICATION_PATHS)  # type: ignore[method-assign]
    return app


def wsgi_app() -> Any:
    """Entry point for gunicorn: ``gunicorn -c python:api.gunicorn_conf 'api:wsgi_app()'``. The process's log lines
    are JSON from here on."""
    configure_logging("geulpi-api")
    app = create_app()
    settle_heap()  # the app and its libraries live as long as the process: out of the collector's scans
    return app
