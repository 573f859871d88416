"""JSON encoding and decoding on the hot paths (task messages, results, bookkeeping writes, answers) with orjson.

Measured on a 1000-event batch (issue 13), the standard library spent ~6 ms encoding the result, ~5 ms decoding it
and ~4 ms more on the bookkeeping documents; orjson does each in well under a millisecond. Where orjson and the
standard library would not give the same thing, the standard library is used, so callers see no difference:

- ``dumps``: orjson refuses what it cannot encode exactly (integers beyond 64 bits, an object it does not know);
  those documents are encoded by ``fallback``. One difference is kept on purpose: a non-finite float is written as
  ``null`` (valid JSON) where the standard library writes ``NaN`` (which no other JSON reader accepts). The domain
  already answers ``None`` for an undefined statistic (``experiments/statistics.py``).
- ``loads``: orjson rejects what the standard library accepts (``NaN``, lone surrogates) and reads integers of more
  than 64 bits as floats; a document with a run of 19 or more digits, or that orjson refuses, is decoded by
  ``fallback``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import orjson

# Dates and dataclasses go to ``default`` (the standard library has no built-in form for them either).
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# 2**63 has 19 digits: a run of 19 digits may be an integer that orjson would read as a float. Every digit is mapped
# to "0" and the run looked for as a substring: two C passes (~0.2 ms for a 400 KB result), where a regex took ~1.7.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


class _NotExact(Exception):
    pass


def _refuse(obj: Any) -> Any:
    raise _NotExact


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def dumps(obj: Any, *, fallback: Callable[[Any], str | bytes] = _compact,
          default: Callable[[Any], Any] | None = None) -> bytes:
    """UTF-8 JSON bytes of ``obj``; ``fallback(obj)`` (encoded to UTF-8) when orjson cannot write the same.

    ``default``: how objects orjson does not know are written (as ``json.JSONEncoder.default``)."""
    try:
        return orjson.dumps(obj, default=default or _refuse, option=_OPTIONS)
    except (orjson.JSONEncodeError, _NotExact):
        return _as_bytes(fallback(obj))


def dumps_text(obj: Any, **kwargs: Any) -> str:
    return dumps(obj, **kwargs).decode("utf-8")


NOT_READ: Any = object()


def try_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The document in ``data`` as orjson reads it, or ``NOT_READ`` when orjson refuses it or might read it
    differently from the standard library (a run of 19 or more digits)."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only the standard library reads those
            return NOT_READ
    else:
        raw = data if isinstance(data, bytes) else bytes(data)
    if _LONG_RUN in raw.translate(_DIGITS_AS_ZERO):
        return NOT_READ
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return NOT_READ


def loads(data: bytes | bytearray | memoryview | str, *, fallback: Callable[[Any], Any] = json.loads) -> Any:
    """The document in ``data``; ``fallback(data)`` decides where orjson might read it differently."""
    document = try_loads(data)
    return fallback(data) if document is NOT_READ else document


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value
