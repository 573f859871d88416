"""The orjson codec reads and writes what the standard library and kombu's serializer would (issue 13)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from kombu.utils import json as kombu_json

from geulpi_tasks import fast_json
from workers import json_serializer

DOCUMENTS = [
    {"events": [{"title": "회의 with Minji 🎂", "startTime": "2026-11-30T09:00:00", "attendees": ["a", "b"]}]},
    {"results": [{"confidence": 0.1 + 0.2, "probabilities": {"WORK": 1e-7, "OTHER": 1e20}, "needsReview": False}]},
    [1, -0, 2.5, None, True, "\u0000\n\"\\", {"": []}],
    {"big": 2**63 - 1, "neg": -(2**63)},
]


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_round_trip_matches_the_standard_library(doc: object) -> None:
    encoded = fast_json.dumps(doc)
    assert json.loads(encoded) == doc
    assert fast_json.loads(encoded) == json.loads(json.dumps(doc)) == doc
    assert fast_json.loads(json.dumps(doc)) == doc  # reads the standard library's own spacing and escapes


def test_integers_beyond_64_bits_keep_their_exact_value() -> None:
    doc = {"n": 123456789012345678901234567890, "m": -(2**64)}
    assert fast_json.dumps(doc) == json.dumps(doc, separators=(",", ":")).encode()
    assert fast_json.loads(json.dumps(doc)) == doc  # orjson alone would read these as floats
    assert isinstance(fast_json.loads('{"n": 123456789012345678901234567890}')["n"], int)


def test_what_orjson_refuses_is_read_as_the_standard_library_reads_it() -> None:
    assert fast_json.loads('"\\ud800"') == "\ud800"
    value = fast_json.loads('[NaN, Infinity]')
    assert value[0] != value[0] and value[1] == float("inf")


def test_non_finite_floats_are_written_as_json_null() -> None:
    assert fast_json.dumps({"p": float("nan"), "q": float("inf")}) == b'{"p":null,"q":null}'


def test_unknown_objects_go_to_the_fallback_or_default() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    with pytest.raises(TypeError):
        fast_json.dumps({"p": Point(1)})  # as json.dumps: no silent encoding of an object
    assert fast_json.dumps({"when": datetime(2026, 1, 2)}, default=str) == b'{"when":"2026-01-02 00:00:00"}'
    assert fast_json.dumps({1: "a"}) == b'{"1":"a"}'  # non-string keys, as the standard library writes them


def test_kombu_tagged_forms_survive_the_serializer() -> None:
    when = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    doc = {"eta": when, "amount": Decimal("1.50"), "body": b"raw", "n": [1, 2]}
    text = json_serializer.dumps(doc)
    assert json_serializer.loads(text) == kombu_json.loads(kombu_json.dumps(doc)) == doc
    assert json_serializer.loads(text.encode()) == doc
    assert json_serializer.loads(memoryview(text.encode())) == doc
    assert kombu_json.loads(text) == doc  # kombu's own reader understands what we write


def test_the_serializer_reads_kombus_own_documents() -> None:
    doc = {"args": [[{"title": "치과 ✓", "n": 2**70}]], "kwargs": {}, "id": str(uuid.uuid4())}
    assert json_serializer.loads(kombu_json.dumps(doc)) == doc


def test_a_uuid_is_written_as_a_plain_string() -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert json_serializer.loads(json_serializer.dumps({"id": value})) == {"id": str(value)}


def test_the_registry_uses_it_for_json() -> None:
    from kombu.serialization import dumps, loads

    json_serializer.use_fast_json()
    content_type, encoding, payload = dumps({"x": "한글"}, serializer="json")
    assert (content_type, encoding) == ("application/json", "utf-8")
    assert payload == '{"x":"한글"}'
    assert loads(payload.encode(), content_type, encoding) == {"x": "한글"}
