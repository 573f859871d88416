"""The OpenAPI 3.1 document served at /openapi.json: every endpoint, its bodies and its error shape."""

from __future__ import annotations

import copy
from typing import Any

from api.schema import model_components

_ERROR = {"$ref": "#/components/schemas/Error"}


_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": 'Bearer realm="geulpi" (RFC 6750)'}},
    429: {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds until the limit resets"}},
    503: {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds"}},
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input (the field is named in details.field; any body nested over 32 levels, with a key "
                 "over 256 characters or a number beyond float range is refused on every endpoint)", 401: "API key missing or not valid",
            404: "Not found", 409: "Conflict with the current state", 413: "Body too large",
            422: "Values that contradict each other", 429: "Over a rate limit (GEULPI_RATE_LIMIT_*); details.field says what it was counted by", 503: "A dependency is unavailable", 504: "No worker answered in time"}
    return {str(c): {"description": text[c], **({"headers": _ERROR_HEADERS[c]} if c in _ERROR_HEADERS else {}),
                     "content": {"application/json": {"schema": _ERROR}}} for c in codes}


# Must match api/auth.py: which operations never need a key, and which need one only when configured.
_OPEN_OPERATIONS = frozenset({"health", "openapi", "monitoringMetrics", "docsPage"})
_CLASSIFY_OPERATIONS = frozenset({"classifyEvent", "classifyEventV1", "classifyEvents", "analyzeBalance",
                                  "optimizeSchedule", "detectPatterns", "analyzeBurnout", "postFeedback"})
# Reads that always need a key, whatever GEULPI_AUTH_READS says (api/auth.py PRIVATE_ENDPOINTS).
_PRIVATE_OPERATIONS = frozenset({"readAudit"})
_LOCATION = {"Location": {"required": True, "schema": {"type": "string"}, "description": "Where to poll"}}
# Must match api/limits.py: the blueprints whose calls count against GEULPI_RATE_LIMIT_* (when GEULPI_RATE_LIMITS=true).
_RATE_LIMITED_OPERATIONS = _CLASSIFY_OPERATIONS | {"trainModel"}
# Must match the views decorated with api.idempotency.idempotent.
_IDEMPOTENT_OPERATIONS = frozenset({"trainModel", "createExperiment", "postFeedback"})
_IDEMPOTENCY_PARAM = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": "^[!-~](?:[ -~]{0,253}[!-~])?$"},
                      "description": "Any unique string (e.g. a UUID). The same key and request within "
                                     "GEULPI_IDEMPOTENCY_TTL (24 h) answer the first answer again and do no second job; "
                                     "the same key with a different request is 422."}
_REPLAYED = {"Idempotent-Replayed": {"required": False, "schema": {"type": "string", "enum": ["true"]},
                                     "description": "This is the first answer to the Idempotency-Key, replayed"}}


def _with_security_and_locations(paths: dict[str, Any]) -> dict[str, Any]:
    """Mutating operations always need a key; reads and classification need one when the server is configured so
    (GEULPI_AUTH_READS / GEULPI_AUTH_CLASSIFY), so for them the key is optional here. All of them can answer 401.
    Every 202 and the alert rule's 201 carry a Location header."""
    for operations in paths.values():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status == "202" or (status == "201" and operation["operationId"] == "createAlertRule"):
                    response["headers"] = _LOCATION
            # Any endpoint refuses a JSON body nested too deep, with a huge key or a number beyond float range.
            operation["responses"].setdefault("400", _errors(400)["400"])
            if operation["operationId"] in _IDEMPOTENT_OPERATIONS:
                operation["parameters"] = [*operation.get("parameters", []), _IDEMPOTENCY_PARAM]
                for status, response in operation["responses"].items():
                    if status.startswith("2"):
                        response["headers"] = {**response.get("headers", {}), **_REPLAYED}
                operation["responses"].update(_errors(409, 422))
            if operation["operationId"] in _RATE_LIMITED_OPERATIONS:
                operation["responses"].update(_errors(429))
            if operation["operationId"] in _OPEN_OPERATIONS:
                continue
            required = ((method not in ("get", "head") and operation["operationId"] not in _CLASSIFY_OPERATIONS)
                        or operation["operationId"] in _PRIVATE_OPERATIONS)
            operation["security"] = [{"apiKey": []}] if required else [{}, {"apiKey": []}]
            operation["responses"].update(_errors(401))
    return paths


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_ASYNC_PARAM = {"name": "async", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                "description": "Answer 202 with a task id instead of waiting (also: header Prefer: respond-async)."}
_EXPLAIN_PARAM = {"name": "explain", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                  "description": "Add an `explanation` to each classified event (computed only when asked)."}


def _analysis(summary: str, operation_id: str, request: str, result: str) -> dict[str, Any]:
    """One calendar-analysis endpoint: validated here (400/422), run on the inference queue (sync or 202)."""
    return {"post": {
        "summary": summary, "operationId": operation_id, "parameters": [_ASYNC_PARAM],
        "requestBody": {"required": True, **_json({"$ref": f"#/components/schemas/{request}"})},
        "responses": {"200": {"description": "Analysis result", **_json({"allOf": [
                          {"$ref": f"#/components/schemas/{result}"},
                          {"$ref": "#/components/schemas/CategorizedByModel"}]})},
                      "202": {"description": "Accepted; poll the Location", **_json({"$ref": "#/components/schemas/Accepted"})},
                      **_errors(400, 413, 422, 503, 504)}}}


_MODEL_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,199}$"}
_VERSION = {"type": "string", "pattern": "^\\s*0*[1-9][0-9]{0,17}\\s*$"}  # the registry's 64-bit integers


_MODEL_NAME_PARAM = {"name": "name", "in": "path", "required": True, "schema": _MODEL_NAME}


def _query_param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "schema": {"type": "string", **schema},
            "description": description}


# Model versions and stages (issue 3) and user feedback.
_LIFECYCLE_PATHS: dict[str, Any] = {
    "/models/{name}/versions": {"get": {
        "summary": "Versions of a registered model, newest first, with stage, metrics and semantic version",
        "operationId": "listModelVersions", "parameters": [_MODEL_NAME_PARAM],
        "responses": {"200": {"description": "Versions", **_json({"$ref": "#/components/schemas/ModelVersions"})},
                      **_errors(400, 404, 503)}}},
    "/models/{name}/promote": {"post": {
        "summary": "Move a version to Staging, Production (archives the previous production) or Archived",
        "operationId": "promoteModelVersion",
        "parameters": [_MODEL_NAME_PARAM, _query_param("version", "Registry version number", **_VERSION),
                       _query_param("target_stage", "Stage to move to", enum=["Staging", "Production", "Archived"])],
        "responses": {"200": {"description": "Stage changed (or already there: changed=false)",
                              **_json({"$ref": "#/components/schemas/Promotion"})},
                      **_errors(400, 404, 409, 503)}}},
    "/models/{name}/rollback": {"post": {
        "summary": "Return production to the previous production version; the current one is archived",
        "operationId": "rollbackModel", "parameters": [_MODEL_NAME_PARAM],
        "responses": {"200": {"description": "Rolled back", **_json({"$ref": "#/components/schemas/Rollback"})},
                      **_errors(400, 404, 409, 503)}}},
    "/models/compare": {"post": {
        "summary": "Evaluate two versions now on the same held-out data (training queue) and recommend one",
        "operationId": "compareModelVersions",
        "parameters": [_query_param("model_name", "Registered model", **_MODEL_NAME),
                       _query_param("version_a", "First version", **_VERSION),
                       _query_param("version_b", "Second version", **_VERSION), _ASYNC_PARAM],
        "responses": {"200": {"description": "Both evaluations and a recommendation",
                              **_json({"$ref": "#/components/schemas/Comparison"})},
                      "202": {"description": "Accepted; poll the Location",
                              **_json({"$ref": "#/components/schemas/Accepted"})},
                      **_errors(400, 404, 422, 503, 504)}}},
    "/models/{name}/shadow": {
        "post": {"summary": "Start a version scoring live traffic beside production, off the callers' path; its "
                            "answers are never returned",
                 "operationId": "startShadow", "parameters": [_MODEL_NAME_PARAM],
                 "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/ShadowRequest"})},
                 "responses": {"201": {"description": "Shadowing", **_json({"$ref": "#/components/schemas/ShadowStarted"})},
                               "200": {"description": "That version was already shadowing (created=false)",
                                       **_json({"$ref": "#/components/schemas/ShadowStarted"})},
                               **_errors(400, 404, 409, 413, 503)}},
        "get": {"summary": "The model's most recent shadow: agreement per class, latency, confidence shift, both "
                           "versions' accuracy on the same corrected events, and a recommendation under the "
                           "promotion gates",
                "operationId": "shadowSummary", "parameters": [_MODEL_NAME_PARAM],
                "responses": {"200": {"description": "Summary", **_json({"$ref": "#/components/schemas/ShadowSummary"})},
                              **_errors(400, 404, 503)}},
        "delete": {"summary": "Stop the running shadow; answers its final summary",
                   "operationId": "stopShadow", "parameters": [_MODEL_NAME_PARAM],
                   "responses": {"200": {"description": "Stopped; final summary",
                                         **_json({"$ref": "#/components/schemas/ShadowSummary"})},
                                 **_errors(400, 404, 503)}}},
    "/models/{name}/shadow/promote": {"post": {
        "summary": "Promote the running shadow's version through the promotion gates (Staging, then Production); "
                   "409 promotion_refused with the gates' reasons",
        "operationId": "promoteShadow", "parameters": [_MODEL_NAME_PARAM],
        "responses": {"200": {"description": "Promoted; the shadow has ended",
                              **_json({"$ref": "#/components/schemas/ShadowPromotion"})},
                      **_errors(400, 404, 409, 503)}}},
    "/feedback": {"post": {
        "summary": "Store a user's correction of a classification (training data and online accuracy)",
        "operationId": "postFeedback",
        "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/FeedbackRequest"})},
        "responses": {"201": {"description": "Stored", **_json({"$ref": "#/components/schemas/Feedback"})},
                      **_errors(400, 404, 413, 422, 503)}}},
}



# Training jobs (issue 3, training half).
_TRAINING_PATHS: dict[str, Any] = {
    "/models/train": {"post": {
        "summary": "Start a training job on the training queue; poll /tasks/{jobId} for progress and the result",
        "operationId": "trainModel",
        "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/TrainingRequestBody"})},
        "responses": {"202": {"description": "Accepted; the Location header is /tasks/{jobId}",
                              **_json({"$ref": "#/components/schemas/TrainingAccepted"})},
                      **_errors(400, 413, 422, 503)}}},
}

def openapi_document() -> dict[str, Any]:
    classify_responses = {"200": {"description": "Classification", **_json({"$ref": "#/components/schemas/Classification"})},
                          "202": {"description": "Accepted; poll the Location", **_json({"$ref": "#/components/schemas/Accepted"})},
                          **_errors(400, 413, 422, 503, 504)}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Geulpi Tasks API", "version": "0.1.0",
                 "description": "Machine-learning back end of the Geulpi calendar: event classification, calendar analyses, models, experiments and monitoring."},
        "paths": {
            "/v2/classify-event": {"post": {
                "summary": "Classify one calendar event on the inference queue", "operationId": "classifyEvent",
                "parameters": [_ASYNC_PARAM, _EXPLAIN_PARAM], "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/Event"})},
                "responses": classify_responses}},
            "/classify-event": {"post": {
                "summary": "Same as /v2/classify-event (the original path)", "operationId": "classifyEventV1",
                "parameters": [_ASYNC_PARAM, _EXPLAIN_PARAM], "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/Event"})},
                "responses": classify_responses}},
            "/v2/classify-events": {"post": {
                "summary": "Classify up to 1000 events in one vectorised task; results keep input order",
                "operationId": "classifyEvents", "parameters": [_ASYNC_PARAM, _EXPLAIN_PARAM],
                "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/EventBatch"})},
                "responses": {"200": {"description": "Classifications in input order",
                                      **_json({"$ref": "#/components/schemas/ClassificationBatch"})},
                    "202": {"description": "Accepted", **_json({"$ref": "#/components/schemas/Accepted"})},
                    **_errors(400, 413, 422, 503, 504)}}},
            "/analyze-balance": _analysis(
                "Hours per category over a period against target shares, with a 0..1 balance score",
                "analyzeBalance", "BalanceRequestBody", "BalanceResult"),
            "/optimize-schedule": _analysis(
                "Suggest new times for movable WORK events so the schedule breaks fewer constraints",
                "optimizeSchedule", "ScheduleRequestBody", "ScheduleResult"),
            "/detect-patterns": _analysis(
                "Recurring events, routines, the typical workday and anomalies in a calendar",
                "detectPatterns", "PatternsRequestBody", "PatternsResult"),
            "/analyze-burnout": _analysis(
                "Burnout risk 0..1 from workload factors, with warnings and optional recommendations",
                "analyzeBurnout", "BurnoutRequestBody", "BurnoutResult"),
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
            **_LIFECYCLE_PATHS,
            **_TRAINING_PATHS,
            "/monitoring/metrics": {"get": {
                "summary": "Prometheus text exposition of every process (multiprocess counters, histograms, queue "
                           "depth, drift scores, online accuracy)", "operationId": "monitoringMetrics",
                "responses": {"200": {"description": "Prometheus text format 0.0.4",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/monitoring/alerts": {"get": {
                "summary": "Active (pending and firing) alerts of a model with value, severity and message",
                "operationId": "monitoringAlerts",
                "parameters": [{"name": "model", "in": "query", "required": False,
                                "schema": {"type": "string", "pattern": "\\S"},
                                "description": "Model name (default: the served model)"}],
                "responses": {"200": {"description": "Active alerts", **_json({
                    "type": "object", "required": ["model_name", "alerts"], "properties": {
                        "model_name": {"type": "string"},
                        "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/AlertStatus"}}}})},
                              **_errors(400, 503)}}},
            "/monitoring/alerts/history": {"get": {
                "summary": "Alert state transitions, newest first", "operationId": "monitoringAlertHistory",
                "parameters": [{"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "Transitions", **_json({
                    "type": "object", "properties": {"history": {"type": "array", "items": {
                        "$ref": "#/components/schemas/AlertStatus"}}}})}, **_errors(400, 503)}}},
            "/monitoring/alerts/rules": {
                "get": {"summary": "Built-in and custom alert rules", "operationId": "listAlertRules",
                        "responses": {"200": {"description": "Rules", **_json({
                            "type": "object", "properties": {"rules": {"type": "array", "items": {
                                "$ref": "#/components/schemas/AlertRule"}}}})}, **_errors(503)}},
                "post": {"summary": "Create a custom alert rule", "operationId": "createAlertRule",
                         "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/AlertRule"})},
                         "responses": {"201": {"description": "Created",
                                               **_json({"$ref": "#/components/schemas/AlertRule"})},
                                       **_errors(400, 409, 413, 422, 503)}}},
            "/monitoring/alerts/rules/{name}": {
                "get": {"summary": "One alert rule", "operationId": "getAlertRule",
                        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "Rule",
                                              **_json({"$ref": "#/components/schemas/AlertRule"})},
                                      **_errors(404, 503)}},
                "delete": {"summary": "Delete a custom alert rule (built-in rules answer 409)",
                           "operationId": "deleteAlertRule",
                           "parameters": [{"name": "name", "in": "path", "required": True,
                                           "schema": {"type": "string"}}],
                           "responses": {"204": {"description": "Deleted"}, **_errors(404, 409, 503)}}},
            "/monitoring/dashboard/{model_name}": {"get": {
                "summary": "Model dashboard: version, health, statistics, hourly trend, active alerts, drift",
                "operationId": "monitoringDashboard",
                "parameters": [{"name": "model_name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Dashboard", **_json({"$ref": "#/components/schemas/Dashboard"})},
                              **_errors(404, 503)}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": {"description": "OpenAPI document", **_json({"type": "object"})}}}},
            "/docs": {"get": {"summary": "This document as a page to read and try (Swagger UI)", "operationId": "docsPage",
                              "responses": {"200": {"description": "HTML page",
                                                    "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/users/{user_id}/data": {"delete": {
                "summary": "Erase a user's data from every store (feedback, cached events, task results, indexes); "
                           "lists model versions trained on it",
                "operationId": "eraseUserData",
                "parameters": [{"name": "user_id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "responses": {"200": {"description": "What was removed per store", **_json({
                    "type": "object", "required": ["userId", "removed", "modelVersionsTrainedOnUser"], "properties": {
                        "userId": {"type": "string"},
                        "removed": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "keptAnonymous": {"type": "object"},
                        "modelVersionsTrainedOnUser": {"type": "array", "items": {
                            "type": "object", "properties": {"model": {"type": "string"},
                                                             "version": {"type": "string"}}}},
                        "retraining": {"type": "string"}}})},
                              **_errors(400, 503)}}},
            "/audit": {"get": {
                "summary": "Audit trail of mutating calls (API and CLI), oldest first; always needs an API key",
                "operationId": "readAudit",
                "parameters": [
                    {"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "Epoch seconds or ISO 8601 time"},
                    {"name": "action", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
                     "description": "Exact action (models.promote) or its prefix (models)"},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "Entries", **_json({
                    "type": "object", "required": ["entries", "count"], "properties": {
                        "count": {"type": "integer"},
                        "entries": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "string"}, "at": {"type": "number"}, "actor": {"type": "string"},
                            "action": {"type": "string"}, "target": {"type": "string"},
                            "outcome": {"type": "string"}, "source": {"type": "string"},
                            "status": {"type": ["integer", "null"]}}}}}})},
                              **_errors(400, 503)}}},
            "/experiments/create": {"post": {
                "summary": "Start an A/B experiment between registered versions of a model (one running per model)",
                "operationId": "createExperiment",
                "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/ExperimentRequest"})},
                "responses": {"201": {"description": "Running", **_json({
                    "type": "object", "required": ["experiment_id", "status"], "properties": {
                        "experiment_id": {"type": "string"}, "status": {"type": "string", "enum": ["running"]},
                        "experiment": {"$ref": "#/components/schemas/Experiment"}}})},
                              **_errors(400, 404, 409, 413, 422, 503)}}},
            "/experiments": {"get": {
                "summary": "Every experiment with its status, oldest first", "operationId": "listExperiments",
                "responses": {"200": {"description": "Experiments", **_json({
                    "type": "object", "properties": {"count": {"type": "integer"}, "experiments": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Experiment"}}}})},
                              **_errors(503)}}},
            "/experiments/{experiment_id}/results": {"get": {
                "summary": "Live (or final) results: per-variant figures, always-valid decision, fixed-horizon "
                           "tests, SRM",
                "operationId": "experimentResults",
                "parameters": [{"name": "experiment_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Results",
                                      **_json({"$ref": "#/components/schemas/ExperimentResults"})},
                              **_errors(404, 503)}}},
            "/experiments/{experiment_id}/stop": {"post": {
                "summary": "Stop (idempotent) and return the final results; optionally promote the winner",
                "operationId": "stopExperiment",
                "parameters": [{"name": "experiment_id", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "promote_winner", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                                "description": "Promote a declared winner to production (also accepted in the body)"}],
                "requestBody": {"required": False, **_json({"type": "object", "properties": {
                    "promote_winner": {"type": "boolean"}}})},
                "responses": {"200": {"description": "Final results",
                                      **_json({"$ref": "#/components/schemas/ExperimentResults"})},
                              **_errors(400, 404, 409, 503)}}},
        },
        "components": {"schemas": {
            **model_components(),  # declared once, as pydantic models (api/schema.py, geulpi_tasks/schemas.py)
            },
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "One of the keys in GEULPI_API_KEYS"}}},
    }
    document["paths"] = _with_security_and_locations(copy.deepcopy(document["paths"]))  # the module-level parts stay as written
    return document
