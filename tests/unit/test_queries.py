"""Query models parse ``request.args`` with the messages the API has always given, naming the parameter."""

from __future__ import annotations

import pytest

from api.queries import (
    AlertHistoryQuery,
    AlertsQuery,
    AuditQuery,
    ClassifyQuery,
    CompareQuery,
    PromoteQuery,
    StopQuery,
    parse_query,
)
from geulpi_tasks.errors import InvalidInput


@pytest.mark.parametrize("model, args, field, message", [
    (ClassifyQuery, {"async": "maybe"}, "async", "'async' must be true or false."),
    (ClassifyQuery, {"async": ""}, "async", "'async' must be true or false."),
    (ClassifyQuery, {"explain": "x"}, "explain", "'explain' must be true or false."),
    (PromoteQuery, {"target_stage": "Production"}, "version", "Query parameter 'version' is required."),
    (PromoteQuery, {"version": "3", "target_stage": "  "}, "target_stage",
     "Query parameter 'target_stage' is required."),
    (CompareQuery, {"model_name": "m", "version_a": "1"}, "version_b", "Query parameter 'version_b' is required."),
    (StopQuery, {"promote_winner": "perhaps"}, "promote_winner", "'promote_winner' must be true or false."),
    (AlertsQuery, {"model": "  "}, "model", "'model' must not be empty."),
    (AlertHistoryQuery, {"limit": "0"}, "limit", "'limit' must be an integer from 1 to 1000."),
    (AlertHistoryQuery, {"limit": "²"}, "limit", "'limit' must be an integer from 1 to 1000."),  # int() refuses it
    (AuditQuery, {"limit": "1001"}, "limit", "'limit' must be an integer from 1 to 1000."),
    (AuditQuery, {"action": "x" * 101}, "action", "'action' is longer than 100 characters."),
    (AuditQuery, {"since": "yesterday"}, "since", "'since' must be epoch seconds or an ISO 8601 time."),
])
def test_bad_parameter_is_refused_naming_it(model, args, field, message):
    with pytest.raises(InvalidInput) as info:
        parse_query(model, args)
    assert type(info.value) is InvalidInput
    assert (info.value.details["field"], info.value.message) == (field, message)


def test_values_parse_as_before():
    assert parse_query(ClassifyQuery, {"async": " YES ", "explain": "0", "unknown": "kept out"}) == ClassifyQuery(
        async_=True, explain=False)
    assert parse_query(ClassifyQuery, {}) == ClassifyQuery(async_=False, explain=False)
    assert parse_query(PromoteQuery, {"version": " 3 ", "target_stage": "production"}).version == "3"
    assert parse_query(StopQuery, {}).promote_winner is None
    assert parse_query(StopQuery, {"promote_winner": True}).promote_winner is True  # a JSON body's boolean
    assert parse_query(AlertsQuery, {"model": " m "}).model == " m "
    assert parse_query(AlertHistoryQuery, {}).limit == 100
    audit = parse_query(AuditQuery, {"since": "1700000000", "action": ""})
    assert (audit.since, audit.action, audit.limit) == (1700000000.0, None, 1000)
