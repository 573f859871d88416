"""JSON request documents, parsed with limits so no body can make the server fail.

Python's own parser accepts documents that break the code after it: 100 000 nested arrays (a RecursionError),
numbers beyond float range (``1e999`` becomes ``inf``, a 5000-digit integer raises inside ``int()``), ``NaN``, and
megabyte-long keys. ``parse_json_document`` refuses each with an ``InvalidInput`` whose code names the problem and
whose ``details['field']`` names where it is, so the API answers 400 instead of 500.
"""

from __future__ import annotations

import json
from typing import Any

from geulpi_tasks import fast_json
from geulpi_tasks.errors import InvalidInput

# Deepest nesting any documented body needs is 5 (events -> event -> attendees -> attendee -> field); room to spare.
MAX_DEPTH = 32
# Longest key accepted; documented keys are short names (and ids are values, not keys).
MAX_KEY_CHARS = 256
# A JSON integer with more digits than this is beyond float range (~1.8e308) wherever the code uses it as a number.
MAX_INT_DIGITS = 308


class _BadNumber(str):
    """A number token the parser met that no float can hold; the walk reports it with its path."""


def _parse_float(token: str) -> Any:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        return _BadNumber(token)
    return value


def _parse_int(token: str) -> Any:
    if len(token.lstrip("-")) > MAX_INT_DIGITS:
        return _BadNumber(token)
    return int(token)


def _parse_constant(token: str) -> Any:
    return _BadNumber(token)  # NaN, Infinity, -Infinity: not JSON, and not a number anything here can use


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _check(document: Any) -> None:
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, _BadNumber):
            raise InvalidInput(f"'{path or 'body'}' is a number beyond the range of a 64-bit float "
                               f"({value[:20]}{'...' if len(value) > 20 else ''}); send a finite number.",
                               field=path or "body", code="number_out_of_range")
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            raise InvalidInput(f"The body is nested more than {MAX_DEPTH} levels deep (at '{path or 'body'}'); "
                               "no endpoint takes such a document.", field=path.split(".")[0].split("[")[0] or "body",
                               code="json_too_deep", details={"maxDepth": MAX_DEPTH})
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > MAX_KEY_CHARS:
                    raise InvalidInput(f"A key in '{path or 'body'}' is {len(key)} characters long; keys may have "
                                       f"at most {MAX_KEY_CHARS}.", field=path or "body", code="json_key_too_long",
                                       details={"maxKeyLength": MAX_KEY_CHARS, "keyLength": len(key)})
                stack.append((item, _join(path, key), depth + 1))
        else:
            stack.extend((item, _join(path, i), depth + 1) for i, item in enumerate(value))


def parse_json_document(raw: bytes | str) -> Any:
    """The parsed document; InvalidInput (field ``body`` or the offending path) when it is not valid JSON, is nested
    deeper than MAX_DEPTH, has a key longer than MAX_KEY_CHARS or a number beyond float range.

    orjson reads the document first (issue 13: ~4x faster on a 1000-event batch); anything it refuses, and any
    document where it could read a number differently, goes through the standard library's parser below, which
    names the problem."""
    document = fast_json.try_loads(raw)
    if document is not fast_json.NOT_READ:
        _check(document)
        return document
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise InvalidInput("The request body is not UTF-8 text.", field="body", code="invalid_json") from err
    try:
        document = json.loads(text, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError as err:
        raise InvalidInput(f"The body is nested more than {MAX_DEPTH} levels deep; no endpoint takes such a "
                           "document.", field="body", code="json_too_deep", details={"maxDepth": MAX_DEPTH}) from err
    except ValueError as err:
        raise InvalidInput(f"The request body is not valid JSON: {err}", field="body", code="invalid_json") from err
    _check(document)
    return document
