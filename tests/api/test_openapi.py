"""/openapi.json is built from the operations declared on the views: every route declares one, and the document's
contract (paths, methods, parameters, statuses, security) is the one in openapi_contract.json.

When you add or change an operation, update openapi_contract.json in the same commit: the diff is the review.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api.openapi import UndeclaredOperation, openapi_document, openapi_path, query_parameters
from api.operations import Answer, operation, operation_of
from api.queries import AuditQuery, ClassifyQuery, CompareQuery

CONTRACT = json.loads((Path(__file__).parent / "openapi_contract.json").read_text())


def _contract(document: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            security = op.get("security")
            found[f"{method.upper()} {path}"] = {
                "operationId": op["operationId"],
                "parameters": sorted(f'{p["in"]}:{p["name"]}{"" if p["required"] else "?"}'
                                     for p in op.get("parameters", [])),
                "statuses": sorted(int(s) for s in op["responses"]),
                "security": "open" if security is None else "key" if len(security) == 1 else "optional"}
    return found


def test_every_route_declares_an_operation(api_app):
    undeclared = sorted(rule.rule for rule in api_app.url_map.iter_rules()
                        if rule.endpoint != "static" and operation_of(api_app.view_functions[rule.endpoint]) is None)
    assert undeclared == []


def test_the_document_keeps_the_contract(client):
    found = _contract(client.get("/openapi.json").json)
    assert sorted(set(found) ^ set(CONTRACT)) == []
    assert {k: v for k, v in found.items() if v != CONTRACT[k]} == {}


def test_operation_ids_are_unique(client):
    ids = [op["operationId"] for ops in client.get("/openapi.json").json["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_query_parameters_come_from_the_query_models(client):
    paths = client.get("/openapi.json").json["paths"]
    assert paths["/models/compare"]["post"]["parameters"] == query_parameters(CompareQuery)
    assert paths["/audit"]["get"]["parameters"] == query_parameters(AuditQuery)
    classify = {p["name"]: p for p in paths["/v2/classify-event"]["post"]["parameters"]}
    assert classify["async"]["schema"] == {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]}
    assert classify["explain"]["required"] is False and "default" not in classify["explain"]["schema"]
    assert {p["name"] for p in query_parameters(ClassifyQuery)} == {"async", "explain"}
    limit = next(p for p in paths["/audit"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}


def test_one_view_on_two_rules_has_an_operation_per_rule(client):
    paths = client.get("/openapi.json").json["paths"]
    assert paths["/v2/classify-event"]["post"]["operationId"] == "classifyEvent"
    assert paths["/classify-event"]["post"]["operationId"] == "classifyEventV1"


def _tiny_app() -> Flask:
    app = Flask("tiny")

    @app.get("/things/<int:thing_id>/parts/<part>")
    @operation("getPart", "A part", answers={200: Answer("Part", {"type": "object"})}, errors=(404,))
    def get_part(thing_id: int, part: str) -> Any:
        return {}

    return app


def test_path_converters_become_path_parameters():
    document = openapi_document(_tiny_app())
    operation_doc = document["paths"]["/things/{thing_id}/parts/{part}"]["get"]
    assert operation_doc["parameters"] == [
        {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "part", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert sorted(operation_doc["responses"]) == ["200", "400", "401", "404"]
    rule = next(r for r in _tiny_app().url_map.iter_rules() if r.endpoint == "get_part")
    assert openapi_path(rule) == "/things/{thing_id}/parts/{part}"


def test_a_route_without_an_operation_is_refused():
    app = _tiny_app()
    app.add_url_rule("/forgotten", "forgotten", lambda: {})
    with pytest.raises(UndeclaredOperation, match="/forgotten"):
        openapi_document(app)
