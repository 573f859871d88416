"""The prediction log: compact records of predictions in a capped Redis stream, one entry per task.

Each entry carries what drift, alerts and the dashboard need and nothing more: a summary of the event's features
(no text, no user id), the predicted class, confidence, model latency, version and status. The stream is capped in
predictions (``record_predictions``); a task's records are written after its result was stored, so the caller
never waits for them.
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


# slots, not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__ (~1.2 µs a record
# against ~0.3, paid per event of a batch).
@dataclass(slots=True)
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


# A task's predictions are one stream entry (issue 13). With an entry per prediction, a 1000-event batch cost Redis
# ~18 ms of CPU (a scripted XADD per prediction) and the worker ~9 ms to build the fields; one entry holding them all
# costs one XADD. A single prediction keeps the flat fields above; several are a JSON list under ``b`` and their
# number under ``n``. The stream is capped in predictions, not entries: beside it, a counter holds how many
# predictions it carries and a list each entry's id and size, oldest first (reading the sizes back from the stream
# would copy whole batches). The oldest entries are trimmed once the count exceeds the cap by a slack, as
# ``MAXLEN ~`` trims a whole node at a time, so a write seldom trims.
BATCH_ENTRY_MAX = 1000
_APPEND = """
local n = tonumber(ARGV[2])
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
local total
if redis.call('XLEN', KEYS[1]) == 1 then  -- a new stream: start its count and sizes afresh
  redis.call('DEL', KEYS[3])
  redis.call('SET', KEYS[2], n)
  total = n
else
  total = redis.call('INCRBY', KEYS[2], n)
end
redis.call('RPUSH', KEYS[3], id .. ' ' .. n)
local cap = tonumber(ARGV[1])
if total <= cap + math.max(math.floor(cap / 100), 100) then
  return total
end
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then  -- the sizes were lost (the stream outlived them): bound it in entries instead
    redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', cap)
    break
  end
  local size = tonumber(string.match(head, ' (%d+)$'))
  if total - size < cap then
    redis.call('XTRIM', KEYS[1], 'MINID', string.match(head, '^(%S+)'))
    break
  end
  redis.call('LPOP', KEYS[3])
  total = total - size
end
redis.call('SET', KEYS[2], total)
return total
"""


def _compact(record: PredictionRecord) -> list[Any]:
    return [record.ts, record.model_version, record.status, record.latency_ms, record.predicted_class,
            record.confidence, record.features]


def _expand(item: list[Any]) -> PredictionRecord:
    ts, version, status, latency, cls, confidence, features = item
    return PredictionRecord(model_version=version, status=status, latency_ms=latency, predicted_class=cls,
                            confidence=confidence, features=features, ts=ts)


def entry_records(raw: Mapping[Any, Any]) -> list[PredictionRecord]:
    """The predictions one stream entry holds, in the order they were written."""
    batch = raw.get(b"b", raw.get("b"))
    if batch is None:
        return [PredictionRecord.from_fields(raw)]
    return [_expand(item) for item in json.loads(batch)]


def record_predictions(redis: Any, key_prefix: str, model_name: str, records: Iterable[PredictionRecord], *,
                       max_len: int) -> int:
    """Append records to the model's capped stream (at most ``BATCH_ENTRY_MAX`` per entry) in one round trip, keeping
    about ``max_len`` predictions; returns how many were written."""
    keys = MonitoringKeys(key_prefix)
    stream, count, sizes = (keys.predictions(model_name), keys.prediction_count(model_name),
                            keys.prediction_sizes(model_name))
    records = list(records)
    if not records:
        return 0
    pipe = redis.pipeline(transaction=False)
    for start in range(0, len(records), BATCH_ENTRY_MAX):
        chunk = records[start:start + BATCH_ENTRY_MAX]
        fields: list[str | bytes]
        if len(chunk) == 1:
            fields = [item for pair in chunk[0].to_fields().items() for item in pair]
        else:
            fields = ["n", str(len(chunk)), "b", fast_json.dumps([_compact(r) for r in chunk])]
        pipe.eval(_APPEND, 3, stream, count, sizes, max_len, len(chunk), *fields)
    pipe.execute()
    return len(records)


def logged_predictions(redis: Any, key_prefix: str, model_name: str) -> int:
    """How many predictions the model's stream holds (exact while under the cap)."""
    keys = MonitoringKeys(key_prefix)
    if not redis.exists(keys.predictions(model_name)):
        return 0
    return int(redis.get(keys.prediction_count(model_name)) or 0)


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
            records = entry_records(raw)
            found.extend(reversed([r for r in records if since <= r.ts <= until]))
            if max(r.ts for r in records) < since - _SKEW_S:
                stop = True
                break
        if stop or len(page) < _PAGE:
            break
        last = page[-1][0].decode() if isinstance(page[-1][0], bytes) else page[-1][0]
        upper = f"({last}"
    found.reverse()
    return found
