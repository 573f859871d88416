"""Kombu's ``json`` serializer (task messages and stored results) on orjson (``geulpi_tasks/fast_json.py``).

The content type stays ``application/json`` and the documents stay what kombu's own serializer reads and writes,
including its tagged forms (``{"__type__": "datetime", ...}``): objects orjson does not write natively go through
kombu's encoder hook, and a document with a tagged form is decoded by kombu itself. Two documented differences:
a UUID is written as a plain string, and a non-finite float as ``null``.
"""

from __future__ import annotations

from typing import Any

from kombu.serialization import registry
from kombu.utils import json as kombu_json

from geulpi_tasks import fast_json

_TAG = b'"__type__"'
_kombu_default = kombu_json.JSONEncoder().default


def dumps(obj: Any) -> str:
    return fast_json.dumps_text(obj, fallback=kombu_json.dumps, default=_kombu_default)


def loads(data: Any) -> Any:
    raw = data.encode("utf-8") if isinstance(data, str) else data if isinstance(data, bytes) else bytes(data)
    if _TAG in raw:
        return kombu_json.loads(raw)
    return fast_json.loads(raw, fallback=kombu_json.loads)


def use_fast_json() -> None:
    """Replace kombu's ``json`` serializer in this process (idempotent)."""
    registry.register("json", dumps, loads, content_type="application/json", content_encoding="utf-8")
