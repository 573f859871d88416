"""The OpenAPI 3.1 document served at /openapi.json, built from the app itself: every rule of ``app.url_map``, the
operation declared on its view (``api/operations.py``, which says how to declare one), the query models'
JSON schemas, and the pydantic models as components (``api/schema.py``).

Security, 401, 429 and the idempotency header are derived from the code that decides them (api/auth.py,
api/limits.py, api/idempotency.py), so the document cannot promise what the server does not do.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from api.auth import Access, access_for
from api.idempotency import is_idempotent
from api.limits import LIMITED_BLUEPRINTS
from api.operations import Answer, Operation, Schema, operation_of
from api.queries import QueryModel
from api.schema import REF, model_components

# Routes that are files, not operations: Swagger UI's assets (the app's static folder).
UNDOCUMENTED_ENDPOINTS = frozenset({"static"})
INFO = {"title": "Geulpi Tasks API", "version": "0.1.0",
        "description": "Machine-learning back end of the Geulpi calendar: event classification, calendar analyses, "
                       "models, experiments and monitoring."}
SECURITY_SCHEMES = {"apiKey": {"type": "http", "scheme": "bearer", "description": "One of the keys in GEULPI_API_KEYS"}}

_ERROR_TEXT = {
    400: "Invalid input (the field is named in details.field; any body nested over 32 levels, with a key over 256 "
         "characters or a number beyond float range is refused on every endpoint)",
    401: "API key missing or not valid",
    403: "Not allowed for this API key (e.g. approving one's own promotion request: self_approval)", 404: "Not found", 409: "Conflict with the current state",
    413: "Body too large", 422: "Values that contradict each other",
    429: "Over a rate limit (GEULPI_RATE_LIMIT_*); details.field says what it was counted by",
    503: "A dependency is unavailable", 504: "No worker answered in time"}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": 'Bearer realm="geulpi" (RFC 6750)'}},
    429: {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds until the limit resets"}},
    503: {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds"}},
}
_IDEMPOTENCY_PARAM = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": "^[!-~](?:[ -~]{0,253}[!-~])?$"},
                      "description": "Any unique string (e.g. a UUID). The same key and request within "
                                     "GEULPI_IDEMPOTENCY_TTL (24 h) answer the first answer again and do no second job; "
                                     "the same key with a different request is 422."}
_REPLAYED = {"Idempotent-Replayed": {"required": False, "schema": {"type": "string", "enum": ["true"]},
                                     "description": "This is the first answer to the Idempotency-Key, replayed"}}
# Werkzeug converter -> the path parameter's schema (the default converter, and any other, take any string).
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {"int": {"type": "integer"}, "float": {"type": "number"},
                                                 "uuid": {"type": "string", "format": "uuid"}}
_PATH_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


class UndeclaredOperation(LookupError):
    """A served route whose view declares no operation (decorate it with ``api.operations.operation``)."""


def openapi_document(app: Flask) -> dict[str, Any]:
    """The whole document; raises UndeclaredOperation when a route has no declared operation."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        spec = operation_of(view)
        if spec is None:
            raise UndeclaredOperation(f"Route {rule.rule} ({rule.endpoint}) declares no operation; decorate its view "
                                      "with api.operations.operation (see that module's docstring).")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(rule, method, spec,
                                                                                 idempotent=is_idempotent(view))
    return {"openapi": "3.1.0", "info": INFO, "paths": paths,
            "components": {"schemas": model_components(), "securitySchemes": SECURITY_SCHEMES}}


def openapi_path(rule: Rule) -> str:
    """``/models/<name>/versions`` -> ``/models/{name}/versions``."""
    return _PATH_ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule.rule)


def _operation(rule: Rule, method: str, spec: Operation, *, idempotent: bool) -> dict[str, Any]:
    operation_id, summary = spec.also_at.get(rule.rule, (spec.operation_id, spec.summary))
    access = access_for(rule.endpoint, method)
    parameters = _path_parameters(rule, spec) + (query_parameters(spec.query) if spec.query else [])
    responses = {str(status): _answer(answer, replayed=idempotent and 200 <= status < 300)
                 for status, answer in spec.answers.items()}
    errors = {400, *spec.errors}  # 400: any endpoint refuses a JSON body nested too deep (api/http.py)
    if idempotent:
        parameters.append(_IDEMPOTENCY_PARAM)
        errors |= {409, 422}
    if rule.endpoint.split(".", 1)[0] in LIMITED_BLUEPRINTS:
        errors.add(429)
    if access is not Access.OPEN:
        errors.add(401)
    responses.update({str(status): _error(status) for status in sorted(errors) if str(status) not in responses})
    document: dict[str, Any] = {"summary": summary, "operationId": operation_id}
    if parameters:
        document["parameters"] = parameters
    if spec.body is not None:
        document["requestBody"] = {"required": spec.body_required, **_content("application/json", spec.body)}
    document["responses"] = responses
    if access is not Access.OPEN:
        # Mutations and private reads always need a key; other reads and classification when configured so.
        required = access in (Access.MUTATE, Access.PRIVATE)
        document["security"] = [{"apiKey": []}] if required else [{}, {"apiKey": []}]
    return document


def _path_parameters(rule: Rule, spec: Operation) -> list[dict[str, Any]]:
    return [{"name": m["name"], "in": "path", "required": True,
             "schema": spec.path.get(m["name"], _CONVERTER_SCHEMAS.get(m["converter"] or "", {"type": "string"}))}
            for m in _PATH_ARGUMENT.finditer(rule.rule)]


def query_parameters(model: type[QueryModel]) -> list[dict[str, Any]]:
    """The query model's fields as OpenAPI parameters (by alias: ``async``), documented as the strings sent."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
        description = prop.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _content(media_type: str, schema: Schema) -> dict[str, Any]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return {"content": {media_type: {"schema": {"$ref": REF.format(model=schema.__name__)}}}}
    return {"content": {media_type: {"schema": schema}}}


def _answer(answer: Answer, *, replayed: bool) -> dict[str, Any]:
    document: dict[str, Any] = {"description": answer.description}
    headers = {**answer.headers, **(_REPLAYED if replayed else {})}
    if headers:
        document["headers"] = headers
    if answer.schema is not None:
        document.update(_content(answer.media_type, answer.schema))
    return document


def _error(status: int) -> dict[str, Any]:
    return {"description": _ERROR_TEXT[status], **({"headers": _ERROR_HEADERS[status]} if status in _ERROR_HEADERS else {}),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
