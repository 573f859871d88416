"""Every endpoint refuses a body nested too deep, with a huge key or a number beyond float range: a 400 whose code
names the problem, before any handler runs (so even endpoints that read no body never answer 500)."""

from __future__ import annotations

import re

import pytest

from bench.fuzz_api import HOSTILE_BODIES
from tests.conftest import keyed_client


def _routes(app):  # type: ignore[no-untyped-def]
    return sorted({(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
                   for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}})


@pytest.mark.parametrize("probe", sorted(HOSTILE_BODIES))
def test_every_endpoint_answers_400_naming_the_problem(api_app, probe):
    body, code = HOSTILE_BODIES[probe]
    client = keyed_client(api_app)
    routes = _routes(api_app)
    assert len(routes) >= 25
    for method, rule in routes:
        path = re.sub(r"<[^>]+>", "probe", rule)
        response = client.open(path, method=method, data=body, content_type="application/json")
        assert response.status_code == 400, (method, rule, response.status_code, response.get_data()[:300])
        error = response.json["error"]
        assert error["code"] == code and error["details"]["field"], (method, rule, error)


def test_a_refused_caller_never_gets_its_body_parsed(api_app):
    body, _ = HOSTILE_BODIES["deep nesting"]
    response = api_app.test_client().post("/models/train", data=body, content_type="application/json")
    assert response.status_code == 401 and response.json["error"]["code"] == "missing_api_key"


def test_classification_with_a_number_beyond_float_range_names_the_field(client):
    response = client.post("/v2/classify-events", data=b'{"events": [{"title": "x", "startTime": "2024-01-20T09:00:00",'
                                                        b' "endTime": "2024-01-20T10:00:00", "attendees": 1e309}]}',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["details"]["field"] == "events[0].attendees"
