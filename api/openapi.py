"""The OpenAPI 3.1 document served at /openapi.json: every endpoint, its bodies and its error shape."""

from __future__ import annotations

from typing import Any

from geulpi_tasks.schemas import CATEGORIES

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input (the field is named in details.field)", 404: "Not found", 413: "Body too large",
            422: "Values that contradict each other", 503: "A dependency is unavailable", 504: "No worker answered in time"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_ASYNC_PARAM = {"name": "async", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                "description": "Answer 202 with a task id instead of waiting (also: header Prefer: respond-async)."}


def openapi_document() -> dict[str, Any]:
    classify_responses = {"200": {"description": "Classification", **_json({"$ref": "#/components/schemas/Classification"})},
                          "202": {"description": "Accepted; poll the Location", **_json({"$ref": "#/components/schemas/Accepted"})},
                          **_errors(400, 413, 422, 503, 504)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Geulpi Tasks API", "version": "0.1.0",
                 "description": "Machine-learning back end of the Geulpi calendar: classification and task status."},
        "paths": {
            "/v2/classify-event": {"post": {
                "summary": "Classify one calendar event on the inference queue", "operationId": "classifyEvent",
                "parameters": [_ASYNC_PARAM], "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/Event"})},
                "responses": classify_responses}},
            "/classify-event": {"post": {
                "summary": "Same as /v2/classify-event (the original path)", "operationId": "classifyEventV1",
                "parameters": [_ASYNC_PARAM], "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/Event"})},
                "responses": classify_responses}},
            "/v2/classify-events": {"post": {
                "summary": "Classify up to 1000 events in one vectorised task; results keep input order",
                "operationId": "classifyEvents", "parameters": [_ASYNC_PARAM],
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["events"],
                    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 1000,
                                              "items": {"$ref": "#/components/schemas/Event"}}}})},
                "responses": {"200": {"description": "Classifications in input order", **_json({
                    "type": "object", "required": ["results", "count", "modelName", "modelVersion", "latencyMs"],
                    "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Classification"}},
                                   "count": {"type": "integer"}, "modelName": {"type": "string"},
                                   "modelVersion": {"type": "string"}, "latencyMs": {"type": "number"}}})},
                    "202": {"description": "Accepted", **_json({"$ref": "#/components/schemas/Accepted"})},
                    **_errors(400, 413, 422, 503, 504)}}},
            "/tasks/{task_id}": {"get": {
                "summary": "State, progress and result of an accepted task", "operationId": "getTask",
                "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Task status", **_json({"$ref": "#/components/schemas/TaskStatus"})},
                              **_errors(400, 404, 503)}}},
            "/health": {"get": {
                "summary": "200 when broker, result backend, registry and an inference worker all answer",
                "operationId": "health",
                "responses": {"200": {"description": "Healthy", **_json({"$ref": "#/components/schemas/Health"})},
                              "503": {"description": "A part failed", **_json({"$ref": "#/components/schemas/Health"})}}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": {"description": "OpenAPI document", **_json({"type": "object"})}}}},
        },
        "components": {"schemas": {
            "Event": {"type": "object", "required": ["title", "startTime", "endTime"], "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 500},
                "description": {"type": ["string", "null"], "maxLength": 5000},
                "location": {"type": ["string", "null"], "maxLength": 500},
                "startTime": {"type": "string", "format": "date-time", "examples": ["2024-01-20T09:00:00"]},
                "endTime": {"type": "string", "format": "date-time", "examples": ["2024-01-20T09:30:00"]},
                "attendees": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 1000},
                "eventId": {"type": ["string", "integer", "null"]},
                "userId": {"type": ["string", "integer", "null"]}}},
            "Classification": {"type": "object", "required": [
                "eventId", "eventType", "priority", "confidence", "needsReview", "suggestedTags", "probabilities",
                "modelName", "modelVersion"], "properties": {
                "eventId": {"type": ["string", "null"]},
                "eventType": {"type": "string", "enum": list(CATEGORIES)},
                "priority": {"type": "string", "enum": ["HIGH", "MEDIUM", "LOW"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "needsReview": {"type": "boolean"},
                "suggestedTags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
                "probabilities": {"type": "object", "additionalProperties": {"type": "number"}},
                "modelName": {"type": "string"}, "modelVersion": {"type": "string"},
                "latencyMs": {"type": "number", "description": "Model time inside the worker"}}},
            "Accepted": {"type": "object", "required": ["taskId", "state", "statusUrl"], "properties": {
                "taskId": {"type": "string"}, "state": {"type": "string"}, "statusUrl": {"type": "string"}}},
            "TaskStatus": {"type": "object", "required": ["taskId", "state", "ready"], "properties": {
                "taskId": {"type": "string"},
                "state": {"type": "string", "enum": ["PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY",
                                                     "SUCCESS", "FAILURE", "REVOKED"]},
                "ready": {"type": "boolean"}, "result": {}, "progress": {"type": "object"},
                "error": {"type": "object"}}},
            "Health": {"type": "object", "required": ["status", "checks"], "properties": {
                "status": {"type": "string"}, "checks": {"type": "object"}}},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message", "details"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}},
        }},
    }
