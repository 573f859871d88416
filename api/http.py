"""Small request helpers shared by the blueprints: JSON bodies, the async preference and dispatching a task."""

from __future__ import annotations

from typing import Any, Iterable

import redis
from flask import Flask, g, request, url_for
from werkzeug.exceptions import HTTPException

from api.coalescer import ARRIVAL
from api.gateway import TaskGateway
from api.queries import AsyncQuery
from api.state import api_state
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.json_documents import parse_json_document
from geulpi_tasks.observability.tracing import tracer
from geulpi_tasks.settings import Settings
from workers.task_names import CLASSIFY_EVENT

_UNREAD = object()


def settings() -> Settings:
    return api_state().settings


def gateway() -> TaskGateway:
    return api_state().gateway


def redis_client(needed_for: str) -> redis.Redis:
    """The one way a handler gets Redis: Unavailable (503) in limited mode, naming ``needed_for``."""
    return api_state().redis(needed_for)


def _parsed_body() -> Any:
    """The body parsed once per request (cached in ``g``): the document, or the InvalidInput it raised."""
    cached = g.get("geulpi_body", _UNREAD)
    if cached is _UNREAD:
        data = request.get_data(cache=True)
        if not data:
            cached = InvalidInput("The request body must be a JSON document.", field="body", code="invalid_json")
        else:
            try:
                cached = parse_json_document(data)
            except InvalidInput as err:
                cached = err
        g.geulpi_body = cached
    return cached


def json_body() -> Any:
    """The request's JSON document; a missing or malformed body is a 400 naming 'body', a document nested too
    deep, with a huge key or a number beyond float range a 400 naming the problem (``parse_json_document``)."""
    body = _parsed_body()
    if isinstance(body, InvalidInput):
        raise body
    return body


def body_if_valid() -> Any:
    """The parsed JSON body, or None when there is none or it is not acceptable (never raises)."""
    try:
        body = _parsed_body()
    except HTTPException:  # e.g. 413: the body was too large to read
        return None
    return None if isinstance(body, InvalidInput) else body


def register_body_check(app: Flask) -> None:
    """Every endpoint, whether it reads a body or not, refuses a JSON body that is nested too deep, has a huge key
    or a number beyond float range (a 400 naming it) before its handler runs; it runs after the API-key check, so
    a caller without a key never gets its body parsed. Bodies that are not JSON at all are left to the handler."""

    @app.before_request
    def _check_body() -> None:
        if not request.content_length and not request.headers.get("Transfer-Encoding"):
            return
        body = _parsed_body()
        if isinstance(body, InvalidInput) and body.code != "invalid_json":
            raise body


def wants_async(query: AsyncQuery) -> bool:
    """The caller asked for 202 + a task id: ``?async=true`` (parsed by the operation's query model) or the header
    ``Prefer: respond-async``."""
    return query.async_ or "respond-async" in request.headers.get("Prefer", "").lower()


def accepted(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    location = url_for("tasks.get_task", task_id=task_id)
    return {"taskId": task_id, "state": "PENDING", "statusUrl": location}, 202, {"Location": location}


def dispatch(task_name: str, args: list[Any], query: AsyncQuery, *, users: Iterable[str | None] = ()) -> Any:
    """Run a task and answer with its result, or accept it (202 + Location) when the caller asked for async.
    ``users``: the user ids the arguments name (erasing one of them then finds the task's result)."""
    named = [str(u) for u in users if u is not None]
    if wants_async(query):
        with tracer().start_as_current_span(f"submit {task_name}"):
            return accepted(gateway().submit(task_name, args, users=named))
    # The span covers the publish, the time in the queue and on the worker, and reading the result back.
    with tracer().start_as_current_span(f"await {task_name}"):
        return _answered(gateway().run(task_name, args, timeout=settings().sync_timeout_s, users=named))


def _answered(value: Any) -> Any:
    """Keep the task's answer for the request's log line (api/telemetry.py), which would otherwise parse the JSON
    body back (~5 ms for a 1000-event batch's answer)."""
    g.geulpi_answer = value
    return value


def dispatch_single_classification(wire: dict[str, Any], options: dict[str, Any] | None, query: AsyncQuery, *,
                                   user: str | None) -> Any:
    """``dispatch`` of one classification; a plain sync one may share its task message with concurrent ones
    (api/coalescer.py), answered exactly as alone."""
    coalescer = api_state().coalescer
    if coalescer is None or options is not None or wants_async(query):
        return dispatch(CLASSIFY_EVENT, [wire] if options is None else [wire, options], query, users=[user])
    with tracer().start_as_current_span(f"await {CLASSIFY_EVENT}"):
        return _answered(coalescer.classify(wire, users=[user] if user is not None else [],
                                            timeout=settings().sync_timeout_s, arrival=request.environ.get(ARRIVAL)))
