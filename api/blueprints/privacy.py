"""Personal data: erasing a user's data on request, and reading the audit trail of mutating calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import redis_client, settings
from api.operations import Answer, operation
from api.queries import AuditQuery
from geulpi_tasks.privacy.audit import read_audit
from geulpi_tasks.privacy.erasure import erase_user

bp = Blueprint("privacy", __name__)

_ERASED = {"type": "object", "required": ["userId", "removed", "modelVersionsTrainedOnUser"], "properties": {
    "userId": {"type": "string"},
    "removed": {"type": "object", "additionalProperties": {"type": "integer"}},
    "keptAnonymous": {"type": "object"},
    "modelVersionsTrainedOnUser": {"type": "array", "items": {
        "type": "object", "properties": {"model": {"type": "string"}, "version": {"type": "string"}}}},
    "retraining": {"type": "string"}}}
_ENTRIES = {"type": "object", "required": ["entries", "count"], "properties": {
    "count": {"type": "integer"},
    "entries": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "at": {"type": "number"}, "actor": {"type": "string"},
        "action": {"type": "string"}, "target": {"type": "string"}, "outcome": {"type": "string"},
        "source": {"type": "string"}, "status": {"type": ["integer", "null"]}}}}}}


@bp.delete("/users/<user_id>/data")
@operation("eraseUserData", "Erase a user's data from every store (feedback, cached events, task results, indexes); "
           "lists model versions trained on it", path={"user_id": {"type": "string", "minLength": 1, "maxLength": 200}},
           answers={200: Answer("What was removed per store", _ERASED)}, errors=(503,))
def erase_user_data(user_id: str) -> Any:
    return erase_user(redis_client("Erasure"), settings().key_prefix, user_id)


@bp.get("/audit")
@operation("readAudit", "Audit trail of mutating calls (API and CLI), oldest first; always needs an API key",
           query=AuditQuery, answers={200: Answer("Entries", _ENTRIES)}, errors=(503,))
def audit(query: AuditQuery) -> Any:
    entries = read_audit(redis_client("The audit trail"), settings().key_prefix, since=query.since,
                         action=query.action, limit=query.limit)
    return {"entries": entries, "count": len(entries)}
