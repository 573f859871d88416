"""Bodies no endpoint can take are refused by the parser with a code naming the problem and the field."""

from __future__ import annotations

from typing import Any

import pytest

from geulpi_tasks import fast_json
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.json_documents import MAX_DEPTH, MAX_KEY_CHARS, parse_json_document
from geulpi_tasks.privacy.redaction import redact, redaction_secret, text_token


def _refused(raw: bytes | str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_json_document(raw)
    return caught.value


def test_ordinary_documents_parse_unchanged():
    raw = '{"events": [{"title": "회의", "attendees": [{"name": "Kim"}], "n": 1.5, "big": 12345678901234567890}]}'
    assert parse_json_document(raw) == {"events": [{"title": "회의", "attendees": [{"name": "Kim"}], "n": 1.5,
                                                    "big": 12345678901234567890}]}


def test_deep_nesting_is_refused_naming_the_top_level_field():
    error = _refused('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert error.code == "json_too_deep" and error.details["field"] in ("title", "body")
    shallow_but_over = '{"title": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    assert _refused(shallow_but_over).details["field"] == "title"
    assert parse_json_document("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))


def test_long_keys_are_refused_naming_where():
    error = _refused('{"events": [{"' + "k" * (MAX_KEY_CHARS + 1) + '": 1}]}')
    assert error.code == "json_key_too_long" and error.details["field"] == "events[0]"


@pytest.mark.parametrize("number", ["1e999", "-1e400", "1" + "0" * 400, "NaN", "Infinity", "-Infinity",
                                    "9" * 5000])
def test_numbers_beyond_float_range_are_refused_naming_the_field(number):
    error = _refused('{"events": [{"duration_hours": ' + number + "}]}")
    assert error.code == "number_out_of_range" and error.details["field"] == "events[0].duration_hours"


def test_syntax_errors_and_bad_utf8_are_invalid_json():
    assert _refused("{").code == "invalid_json"
    assert _refused(b"\xff\xfe").code == "invalid_json"


def test_redaction_tokens_are_stable_keyed_and_show_only_length():
    secret = redaction_secret("", ("k1",))
    token = text_token("Therapy with Dr. Lee", secret)
    assert token.startswith("<20 chars #") and "Lee" not in token
    assert text_token("Therapy with Dr. Lee", secret) == token  # the same text is recognisable
    assert text_token("Therapy with Dr. Lee", redaction_secret("other", ())) != token  # keyed
    shown = redact([{"title": "Therapy", "attendees": ["a@x.kr", "b@x.kr"], "eventId": "e1", "startTime": "t"}],
                   secret)
    assert shown[0]["eventId"] == "e1" and shown[0]["startTime"] == "t"
    assert shown[0]["attendees"].startswith("<2 items #") and shown[0]["title"].startswith("<7 chars #")


ODD_BODIES = [b'{"a": 1}', b'\xef\xbb\xbf{"a": 1}', b'{"a": 1,}', b'[1, 2', b'{"a": NaN}', b'{"a": 1e999}',
              b'{"a": -1e999}',
              b'{"a": 123456789012345678901234567890}', b'{"a": 1' + b'0' * 400 + b'}', b'"\\ud800"', b'\xff\xfe',
              b'{"a": 1} x', b'  {"a": [1.5, -0.0, 1E2, true, null]}  ', b'{"a": 1, "a": 2}', b'[' * 40 + b']' * 40,
              b'[' * 2000 + b']' * 2000, b'{"' + b'k' * 300 + b'": 1}', b'', b'nul', b'"\\u00e9\xc3\xa9"',
              b'{"events": [{"title": "\xed\x9a\x8c\xec\x9d\x98", "attendees": []}]}', b'18446744073709551616',
              b'-9223372036854775809', b'1.7976931348623157e309', b'{"a": "\\t\\n\\/"}', b'[1,\n2\t,3]']


@pytest.mark.parametrize("body", ODD_BODIES)
def test_the_fast_path_answers_exactly_as_the_standard_library(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def outcome() -> Any:
        try:
            return ("ok", repr(parse_json_document(body)))
        except InvalidInput as err:
            return ("error", err.code, err.message, err.details)

    fast = outcome()
    monkeypatch.setattr(fast_json, "try_loads", lambda raw: fast_json.NOT_READ)
    assert fast == outcome()
