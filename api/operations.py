"""An operation is declared once, on the Flask view that serves it: ``@operation(...)`` says what the route takes
(body, query parameters) and answers; /openapi.json is built from these declarations (``api/openapi.py``), and the
query model also parses the request.

How to declare one (the decorator goes under the route decorator(s), so Flask registers what it returns)::

    @bp.post("/models/<name>/shadow")
    @operation("startShadow", "Mirror production traffic to a version without answering with it",
               body=ShadowRequest,                       # a pydantic model in api.schema.REQUESTS (or a JSON schema)
               query=AsyncQuery,                         # a QueryModel from api/queries.py: parsed, passed as ``query``
               path={"name": MODEL_NAME_SCHEMA},         # optional: path parameters' schemas (default: the converter's)
               answers={200: Answer("Shadow started", Shadow), 202: ACCEPTED},   # models in api.schema.ANSWERS
               errors=(404, 409, 503))                   # error statuses; each answers the Error envelope
    def start_shadow(name: str, query: AsyncQuery) -> Any: ...

What is not declared here is derived, so it cannot drift from the code that decides it: ``security`` and 401 from
``api.auth.access_for``; 429 from the rate-limited blueprints (``api.limits.LIMITED_BLUEPRINTS``); the
``Idempotency-Key`` parameter, 409/422 and ``Idempotent-Replayed`` from ``api.idempotency.idempotent``; and the 400
every endpoint can answer (a JSON body nested too deep, ...).

Also: ``also_at={"/old-path": ("oldId", "summary")}`` when one view serves two rules; ``body_required=False``;
``Answer(..., media_type="text/plain", headers=LOCATION)``; ``ref(Model)`` inside an inline JSON schema. A model
named in ``body``/``answers`` must be listed in ``api.schema.REQUESTS``/``ANSWERS`` (its component). Then add the
operation's line to ``tests/api/openapi_contract.json``: ``tests/api/test_openapi.py`` fails for a route without an
operation and for any change of paths, methods, parameters, statuses or security not written there.

Why not flask-openapi3, spectree or flask-pydantic-spec: each validates the body itself and answers its own 422
body, or replaces Flask's app and blueprint classes; our bodies are parsed by the domain parsers (their errors name
``events[3].endTime``) and the error envelope is api/errors.py's. What is left to a library is a few lines over
pydantic's JSON schema, so this stays here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

from flask import request
from pydantic import BaseModel

from api.queries import QueryModel, parse_query
from api.schema import REF, Accepted

_ATTRIBUTE = "geulpi_operation"
# A body or an answer: a pydantic model (a $ref to its component) or an inline JSON schema.
Schema = Union[type[BaseModel], dict[str, Any]]

LOCATION = {"Location": {"required": True, "schema": {"type": "string"}, "description": "Where to poll"}}


@dataclass(frozen=True)
class Answer:
    """One documented success answer; ``schema`` None means no body (e.g. 204)."""

    description: str
    schema: Schema | None = None
    media_type: str = "application/json"
    headers: Mapping[str, Any] = field(default_factory=dict)


ACCEPTED = Answer("Accepted; poll the Location", Accepted, headers=LOCATION)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    answers: Mapping[int, Answer]
    errors: tuple[int, ...] = ()
    body: Schema | None = None
    body_required: bool = True
    query: type[QueryModel] | None = None
    path: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    # Another rule served by the same view, with its own id and summary: rule -> (operationId, summary).
    also_at: Mapping[str, tuple[str, str]] = field(default_factory=dict)


View = Callable[..., Any]


def operation(operation_id: str, summary: str, *, answers: Mapping[int, Answer], errors: tuple[int, ...] = (),
              body: Schema | None = None, body_required: bool = True, query: type[QueryModel] | None = None,
              path: Mapping[str, dict[str, Any]] | None = None,
              also_at: Mapping[str, tuple[str, str]] | None = None) -> Callable[[View], View]:
    """Declare the decorated view's operation. With ``query``, the view is called with ``query=<parsed model>``
    (a bad parameter is InvalidInput, 400, naming it, before the view runs)."""
    spec = Operation(operation_id, summary, answers, errors, body, body_required, query, path or {}, also_at or {})

    def decorate(view: View) -> View:
        if query is None:
            setattr(view, _ATTRIBUTE, spec)
            return view

        @functools.wraps(view)
        def parsed(*args: Any, **kwargs: Any) -> Any:
            return view(*args, query=parse_query(query, request.args.to_dict()), **kwargs)

        setattr(parsed, _ATTRIBUTE, spec)
        return parsed
    return decorate


def ref(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model``'s component, for an inline schema that wraps it."""
    return {"$ref": REF.format(model=model.__name__)}


def operation_of(view: View) -> Operation | None:
    """The operation declared on ``view`` (through other decorators that use functools.wraps), or None."""
    found = getattr(view, _ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
