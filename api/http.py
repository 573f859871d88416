"""Small request helpers shared by the blueprints: JSON bodies and the async preference."""

from __future__ import annotations

from typing import Any

import redis
from flask import request, url_for
from werkzeug.exceptions import BadRequest

from api.gateway import TaskGateway
from api.state import api_state
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.settings import Settings


def settings() -> Settings:
    return api_state().settings


def gateway() -> TaskGateway:
    return api_state().gateway


def redis_client(needed_for: str) -> redis.Redis:
    """The one way a handler gets Redis: Unavailable (503) in limited mode, naming ``needed_for``."""
    return api_state().redis(needed_for)


def json_body() -> Any:
    """The request's JSON document; a missing or malformed body is a 400 naming 'body'."""
    data = request.get_data(cache=True)
    if not data:
        raise InvalidInput("The request body must be a JSON document.", field="body", code="invalid_json")
    try:
        return request.get_json(force=True, silent=False)
    except BadRequest as err:
        raise InvalidInput(f"The request body is not valid JSON: {getattr(err, 'description', err)}",
                           field="body", code="invalid_json") from err


def wants_async() -> bool:
    raw = request.args.get("async")
    flag = (raw or "").strip().lower()
    if raw is not None and flag not in {"true", "false", "1", "0", "yes", "no"}:  # "?async=" too: say which
        raise InvalidInput("'async' must be true or false.", field="async")
    prefer = request.headers.get("Prefer", "").lower()
    return flag in {"true", "1", "yes"} or "respond-async" in prefer


def accepted(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    location = url_for("tasks.get_task", task_id=task_id)
    return {"taskId": task_id, "state": "PENDING", "statusUrl": location}, 202, {"Location": location}


def dispatch(task_name: str, args: list[Any]) -> Any:
    """Run a task and answer with its result, or accept it (202 + Location) when the caller asked for async."""
    if wants_async():
        return accepted(gateway().submit(task_name, args))
    return gateway().run(task_name, args, timeout=settings().sync_timeout_s)
