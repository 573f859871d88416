"""Every mutating call leaves one audit entry, refused ones (401) included: one ``after_request`` hook, so a new
mutating endpoint is audited by default, like it is closed by default (``api/auth.py``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request

from api.auth import Access, access_for, caller_id
from api.http import body_if_valid
from api.state import api_state
from geulpi_tasks.errors import GeulpiError
from geulpi_tasks.privacy.audit import AuditEntry, record_audit
from geulpi_tasks.privacy.keys import user_digest

log = logging.getLogger(__name__)

# Endpoint -> audit action; an endpoint missing here is audited under its endpoint name.
ACTIONS = {
    "training.train_model": "models.train", "models.promote": "models.promote", "models.rollback": "models.rollback",
    "models.compare": "models.compare", "experiments.create_experiment": "experiments.create",
    "experiments.stop_experiment": "experiments.stop", "monitoring.create_rule": "alerts.rules.create",
    "monitoring.delete_rule": "alerts.rules.delete", "privacy.erase_user_data": "users.erase",
    "approvals.approve_request": "models.approvals.approve", "approvals.reject_request": "models.approvals.reject",
    "shadow.start": "models.shadow.start", "shadow.stop": "models.shadow.stop",
    "shadow.promote": "models.shadow.promote",
}


def _body_field(name: str) -> str:
    body = body_if_valid()
    value = body.get(name) if isinstance(body, dict) else None
    return str(value)[:100] if isinstance(value, (str, int)) and not isinstance(value, bool) else "?"


def _target(endpoint: str, authorized: bool) -> str:
    args: dict[str, Any] = request.view_args or {}
    if endpoint == "privacy.erase_user_data":
        return f"user:#{user_digest(str(args.get('user_id', '')))}"  # the audit keeps no user id
    if endpoint == "models.compare":
        return (f"{request.args.get('model_name', '?')[:100]}:{request.args.get('version_a', '?')[:20]}"
                f"~{request.args.get('version_b', '?')[:20]}")
    if endpoint == "models.promote":
        return (f"{args.get('name', '?')}:{request.args.get('version', '?')[:20]}"
                f"->{request.args.get('target_stage', '?')[:20]}")
    if "approval_id" in args:
        return f"{args.get('name', '?')}#{str(args['approval_id'])[:40]}"
    if endpoint == "shadow.start":  # the version to shadow, read only from an authorized call's body
        return f"{args.get('name', '?')}:shadow:{_body_field('version') if authorized else '?'}"
    if "name" in args:
        return str(args["name"])
    if "experiment_id" in args:
        return str(args["experiment_id"])
    # Bodies of refused calls are never read.
    if endpoint == "training.train_model":
        return _body_field("model_type") if authorized else "?"
    if endpoint == "experiments.create_experiment":
        return _body_field("model_type") if authorized else "?"
    if endpoint == "monitoring.create_rule":
        return _body_field("name") if authorized else "?"
    return request.path[:200]


def _outcome(response: Response) -> str:
    if response.status_code < 400:
        return "ok"
    body = response.get_json(silent=True) if response.is_json else None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else f"http_{response.status_code}"


def register_audit(app: Flask) -> None:
    @app.after_request
    def _audit(response: Response) -> Response:
        state = api_state()
        if state.settings.disable_redis or access_for(request.endpoint, request.method) is not Access.MUTATE:
            return response
        endpoint = str(request.endpoint)
        entry = AuditEntry(actor=caller_id(), action=ACTIONS.get(endpoint, endpoint),
                           target=_target(endpoint, response.status_code != 401), outcome=_outcome(response),
                           source="api", status=response.status_code)
        try:
            record_audit(state.redis("The audit trail"), state.settings.key_prefix, entry,
                         max_age_s=state.settings.audit_max_age_s)
        except GeulpiError as err:  # the call itself is done; say loudly that its trace is missing
            log.error("audit entry lost (%s %s -> %s): %s", entry.action, entry.target, entry.outcome, err.message)
        return response
