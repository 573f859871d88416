"""The OpenAPI 3.1 document served at /openapi.json: every endpoint, its bodies and its error shape."""

from __future__ import annotations

from typing import Any

from geulpi_tasks.schemas import CATEGORIES
from geulpi_tasks.workflows.defaults import MAX_EVENTS, MAX_PERIOD_DAYS

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


_PERIOD = {"type": "object", "properties": {"startDate": {"type": "string"}, "endDate": {"type": "string"},
                                            "days": {"type": "number"}}}
_USER_ID = {"type": ["string", "integer"], "description": "1 to 200 characters"}
_DATE_OR_DATETIME = {"type": "string", "examples": ["2024-05-06", "2024-05-06T09:00:00"],
                     "description": "ISO 8601 date or date-time; a bare endDate includes that whole day"}


def _calendar(extra_required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["userId", "events", *extra_required], "properties": {
        "userId": _USER_ID,
        "events": {"type": "array", "maxItems": MAX_EVENTS, "items": {"$ref": "#/components/schemas/CalendarEvent"},
                   "description": "Events without a category are classified by the production model first"},
        **properties}}


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
            "/analyze-balance": _analysis(
                "Hours per category over a period against target shares, with a 0..1 balance score",
                "analyzeBalance", "BalanceRequest", "BalanceResult"),
            "/optimize-schedule": _analysis(
                "Suggest new times for movable WORK events so the schedule breaks fewer constraints",
                "optimizeSchedule", "ScheduleRequest", "ScheduleResult"),
            "/detect-patterns": _analysis(
                "Recurring events, routines, the typical workday and anomalies in a calendar",
                "detectPatterns", "PatternsRequest", "PatternsResult"),
            "/analyze-burnout": _analysis(
                "Burnout risk 0..1 from workload factors, with warnings and optional recommendations",
                "analyzeBurnout", "BurnoutRequest", "BurnoutResult"),
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
            "CalendarEvent": {"allOf": [{"$ref": "#/components/schemas/Event"}, {"type": "object", "properties": {
                "category": {"type": ["string", "null"], "enum": [*CATEGORIES, None],
                             "description": "Missing → classified by the model (see categorizedByModel)"},
                "fixed": {"type": "boolean", "description": "/optimize-schedule only: never move this event"}}}]},
            "CategorizedByModel": {"type": "object", "required": ["categorizedByModel"], "properties": {
                "categorizedByModel": {"type": "integer", "minimum": 0,
                                       "description": "Events whose category the model filled in"},
                "modelVersion": {"type": "string", "description": "Present when the model was used"}}},
            "BalanceRequest": _calendar(["startDate", "endDate"], {
                "startDate": _DATE_OR_DATETIME, "endDate": _DATE_OR_DATETIME,
                "targets": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0},
                            "description": "Percent per category or life area; must add up to 100"}}),
            "BalanceResult": {"type": "object", "required": ["userId", "status", "period", "score", "categories"],
                              "properties": {
                "userId": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "empty"]},
                "period": _PERIOD, "targetsSource": {"type": "string", "enum": ["request", "default"]},
                "totalHours": {"type": "number"}, "eventCount": {"type": "integer"}, "overlapHours": {"type": "number"},
                "score": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "categories": {"type": "array", "items": {"type": "object", "properties": {
                    "category": {"type": "string"}, "hours": {"type": "number"}, "percentage": {"type": "number"},
                    "recommendedPercentage": {"type": "number"}, "difference": {"type": "number"},
                    "status": {"type": "string", "enum": ["optimal", "over", "under"]}}}},
                "insights": {"type": "array", "items": {"type": "string"}},
                "recommendations": {"type": "array", "items": {"type": "object"}}}},
            "ScheduleRequest": _calendar([], {
                "targetDate": {"type": "string", "format": "date", "description": "One day; or startDate/endDate"},
                "startDate": _DATE_OR_DATETIME, "endDate": _DATE_OR_DATETIME,
                "constraints": {"type": "object", "additionalProperties": False, "properties": {
                    "workingHours": {"type": "object", "properties": {"start": {"type": "string", "examples": ["09:00"]},
                                                                      "end": {"type": "string", "examples": ["18:00"]}}},
                    "daysOff": {"type": "array", "items": {"type": "string"},
                                "description": "Weekday names or YYYY-MM-DD dates (default SATURDAY, SUNDAY)"},
                    "noMeetingWindows": {"type": "array", "items": {"type": "object", "properties": {
                        "start": {"type": "string"}, "end": {"type": "string"},
                        "days": {"type": "array", "items": {"type": "string"}}}}},
                    "maxMeetingHoursPerDay": {"type": "number"}, "maxConsecutiveMeetingHours": {"type": "number"},
                    "minBreakMinutes": {"type": "number"},
                    "fixedEventIds": {"type": "array", "items": {"type": ["string", "integer"]}}}},
                "preferences": {"type": "object", "additionalProperties": False, "properties": {
                    "maxSuggestions": {"type": "integer", "minimum": 1}, "allowDayChange": {"type": "boolean"}}}}),
            "ScheduleResult": {"type": "object", "required": ["userId", "status", "period", "suggestions"],
                               "properties": {
                "userId": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "empty"]},
                "period": _PERIOD, "constraints": {"type": "object"},
                "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                    "eventId": {"type": "string"}, "title": {"type": "string"},
                    "originalStart": {"type": "string"}, "originalEnd": {"type": "string"},
                    "suggestedStart": {"type": "string"}, "suggestedEnd": {"type": "string"},
                    "reasonCodes": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string"},
                    "impact": {"type": "number"}}}},
                "balanceScoreBefore": {"type": "number"}, "balanceScoreAfter": {"type": "number"},
                "issuesBefore": {"type": "object"}, "issuesAfter": {"type": "object"},
                "movableEventCount": {"type": "integer"}, "fixedEventCount": {"type": "integer"}}},
            "PatternsRequest": _calendar([], {
                "lookbackDays": {"type": "integer", "minimum": 1, "maximum": MAX_PERIOD_DAYS},
                "minConfidence": {"type": "number", "minimum": 0, "maximum": 1}}),
            "PatternsResult": {"type": "object", "required": ["userId", "status", "patterns", "anomalies"],
                               "properties": {
                "userId": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "insufficient_data"]},
                "lookbackDays": {"type": "integer"}, "minConfidence": {"type": "number"},
                "eventCount": {"type": "integer"}, "period": _PERIOD,
                "patterns": {"type": "array", "items": {"type": "object", "properties": {
                    "type": {"type": "string", "enum": ["weekly_event", "daily_routine", "workday", "category_block"]},
                    "daysOfWeek": {"type": "array", "items": {"type": "string"}},
                    "startTime": {"type": "string"}, "endTime": {"type": "string"},
                    "frequency": {"type": "integer"}, "confidence": {"type": "number"},
                    "description": {"type": "string"}}}},
                "anomalies": {"type": "array", "items": {"type": "object", "properties": {
                    "eventId": {"type": "string"}, "title": {"type": "string"},
                    "types": {"type": "array", "items": {"type": "string"}},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "severity": {"type": "string", "enum": ["high", "medium", "low"]}}}}}},
            "BurnoutRequest": _calendar([], {
                "lookbackDays": {"type": "integer", "minimum": 1, "maximum": MAX_PERIOD_DAYS},
                "includeRecommendations": {"type": "boolean"}}),
            "BurnoutResult": {"type": "object", "required": ["userId", "status", "riskScore", "level"], "properties": {
                "userId": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "empty"]},
                "period": _PERIOD,
                "riskScore": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "level": {"type": ["string", "null"], "enum": ["low", "medium", "high", "critical", None]},
                "factors": {"type": "object", "additionalProperties": {"type": "object"}},
                "warnings": {"type": "array", "items": {"type": "object"}}, "metrics": {"type": "object"},
                "recommendations": {"type": "array", "items": {"type": "object"}},
                "preventiveActions": {"type": "array", "items": {"type": "object"}},
                "monitoringPlan": {"type": "object"}}},
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
