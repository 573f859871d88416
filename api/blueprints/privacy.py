"""Personal data: erasing a user's data on request, and reading the audit trail of mutating calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api.http import redis_client, settings
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.privacy.audit import MAX_READ, parse_since, read_audit
from geulpi_tasks.privacy.erasure import erase_user

bp = Blueprint("privacy", __name__)


@bp.delete("/users/<user_id>/data")
def erase_user_data(user_id: str) -> Any:
    return erase_user(redis_client("Erasure"), settings().key_prefix, user_id)


@bp.get("/audit")
def audit() -> Any:
    since = parse_since(request.args.get("since"))
    action = request.args.get("action") or None
    if action is not None and len(action) > 100:
        raise InvalidInput("'action' is longer than 100 characters.", field="action")
    raw = request.args.get("limit", str(MAX_READ))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_READ:
        raise InvalidInput(f"'limit' must be an integer from 1 to {MAX_READ}.", field="limit")
    entries = read_audit(redis_client("The audit trail"), settings().key_prefix, since=since, action=action,
                         limit=int(raw))
    return {"entries": entries, "count": len(entries)}
