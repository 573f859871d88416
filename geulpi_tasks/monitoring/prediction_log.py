"""The prediction log: one compact entry per prediction in a capped Redis stream.

Each entry carries what drift, alerts and the dashboard need and nothing more: a summary of the event's features
(no text, no user id), the predicted class, confidence, model latency, version and status. ``XADD ... MAXLEN ~``
keeps the stream bounded; a whole batch is written in one pipeline after the result was already stored, so the
caller never waits for it.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from geulpi_tasks import fast_json
from geulpi_tasks.monitoring.keys import MonitoringKeys

# Features summarised per event. Numeric ones are compared as distributions, categorical ones as class mixes.
NUMERIC_FEATURES: tuple[str, ...] = ("hour", "log_duration_min", "attendees", "title_length")
CATEGORICAL_FEATURES: tuple[str, ...] = ("weekday", "lang", "has_description", "has_location")

STATUS_SUCCESS = "success"
STATUS_ERROR = "error"
# Stream entries older than this clock skew are no longer in any window that ends now.
_SKEW_S = 60.0
_PAGE = 1000


# One regex search each instead of a Python loop over the title's characters (issue 13: ~6 ms per 1000 events).
_HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile("[A-Za-z]")  # exactly the characters that are both ASCII and alphabetic


def _script(text: str) -> str:
    hangul = _HANGUL.search(text) is not None
    latin = _LATIN.search(text) is not None
    if hangul and latin:
        return "mixed"
    return "ko" if hangul else ("en" if latin else "none")


def summarize_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The drift features of one event in wire form (``startTime``/``endTime`` ISO strings, ``title``, ...)."""
    start = datetime.fromisoformat(str(event["startTime"]))
    end = datetime.fromisoformat(str(event["endTime"]))
    minutes = max((end - start).total_seconds() / 60.0, 0.0)
    title = str(event.get("title") or "")
    return {
        "hour": round(start.hour + start.minute / 60.0, 4),
        "log_duration_min": round(math.log1p(minutes), 5),
        "attendees": len(event.get("attendees") or ()),
        "title_length": len(title),
        "weekday": str(start.weekday()),
        "lang": _script(title),
        "has_description": "1" if event.get("description") else "0",
        "has_location": "1" if event.get("location") else "0",
    }


@dataclass(frozen=True)
class PredictionRecord:
    model_version: str
    status: str
    latency_ms: float | None = None
    predicted_class: str | None = None
    confidence: float | None = None
    features: dict[str, Any] | None = None
    ts: float = field(default_factory=time.time)

    def to_fields(self) -> dict[str, str]:
        fields = {"ts": repr(self.ts), "v": self.model_version, "st": self.status}
        if self.latency_ms is not None:
            fields["lat"] = repr(float(self.latency_ms))
        if self.predicted_class is not None:
            fields["cls"] = self.predicted_class
        if self.confidence is not None:
            fields["conf"] = repr(float(self.confidence))
        if self.features is not None:
            fields["f"] = fast_json.dumps_text(self.features)
        return fields

    @classmethod
    def from_fields(cls, raw: Mapping[Any, Any]) -> "PredictionRecord":
        f = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
             for k, v in raw.items()}
        return cls(model_version=f.get("v", ""), status=f.get("st", STATUS_SUCCESS),
                   latency_ms=float(f["lat"]) if "lat" in f else None, predicted_class=f.get("cls"),
                   confidence=float(f["conf"]) if "conf" in f else None,
                   features=json.loads(f["f"]) if "f" in f else None, ts=float(f.get("ts", 0.0)))


# The entries of a batch go to Redis as one JSON document that a script appends entry by entry: one argument for
# redis-py to pack instead of one XADD's worth per prediction (issue 13: redis-py spent ~18 ms of a worker's CPU on
# a 1000-event batch's XADDs). Field values are strings in the document, stored as they were.
_XADD_CHUNK = 1000
_XADD_ALL = """
local entries = cjson.decode(ARGV[2])
for _, fields in ipairs(entries) do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
end
return #entries
"""


def record_predictions(redis: Any, key_prefix: str, model_name: str, records: Iterable[PredictionRecord], *,
                       max_len: int) -> int:
    """Append records to the model's capped stream (``XADD ... MAXLEN ~``) in one round trip; returns how many were
    written."""
    key = MonitoringKeys(key_prefix).predictions(model_name)
    entries = [[item for pair in record.to_fields().items() for item in pair] for record in records]
    if not entries:
        return 0
    pipe = redis.pipeline(transaction=False)
    for start in range(0, len(entries), _XADD_CHUNK):
        pipe.eval(_XADD_ALL, 1, key, max_len, fast_json.dumps(entries[start:start + _XADD_CHUNK]))
    pipe.execute()
    return len(entries)


def read_window(redis: Any, key_prefix: str, model_name: str, *, since: float, until: float) -> list[PredictionRecord]:
    """Records with ``since <= ts <= until``, oldest first (reads the stream newest first and stops early)."""
    key = MonitoringKeys(key_prefix).predictions(model_name)
    found: list[PredictionRecord] = []
    upper = "+"
    while True:
        page = redis.xrevrange(key, max=upper, min="-", count=_PAGE)
        if not page:
            break
        stop = False
        for _entry_id, raw in page:
            record = PredictionRecord.from_fields(raw)
            if since <= record.ts <= until:
                found.append(record)
            elif record.ts < since - _SKEW_S:
                stop = True
                break
        if stop or len(page) < _PAGE:
            break
        last = page[-1][0].decode() if isinstance(page[-1][0], bytes) else page[-1][0]
        upper = f"({last}"
    found.reverse()
    return found
