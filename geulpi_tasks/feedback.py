"""User corrections of classifications, stored durably in Redis (AOF is the durability) for training and monitoring.

Keys (all under ``<key_prefix>:feedback:``):
- ``rows``: hash, one field per corrected event (``event:<eventId>`` or ``request:<requestId>``), value the JSON
  record; a second correction of the same event replaces the first. No TTL: feedback is training data.
- ``recent:group:<groupId>``: what one classification task answered, kept ``ttl_s`` so feedback can name an event by
  id instead of sending it again: a JSON list with each event's wire form and answer (null once erased). The
  group id is the task id, so the request id ``<taskId>:<i>`` of a batch's i-th event, and a single
  classification's ``<taskId>``, name their record without any other key.
- ``recent:ids:<n>``: hash ``event:<eventId>`` / ``request:<requestId>`` → ``<groupId>:<i>`` for the ids that do not
  name their group (event ids, callers' own request ids), one hash per ``ttl_s`` period ``n``, kept until the next
  period ends.
- ``by_user:<userId>``: set of the ``recent:*`` keys holding that user's events, so erasure finds them.

The request id of a single classification is its task id (the ``taskId`` of a 202 answer); the i-th event of a
batch is ``<taskId>:<i>``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from typing import Annotated, Any, Callable, Literal, Mapping, Sequence

import redis
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from geulpi_tasks import fast_json
from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, InvalidInput, NotFound, Unavailable
from geulpi_tasks.experiments.store import record_feedback_outcome as record_variant_outcome
from geulpi_tasks.monitoring.accuracy import record_feedback_outcome
from geulpi_tasks.schemas import CATEGORIES, Category, Event, Priority, event_to_wire, input_error
from geulpi_tasks.shadow.store import record_feedback_outcome as record_shadow_outcome

PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
_EVENT_FIELDS = ("title", "startTime", "endTime", "description", "location", "attendees", "eventId", "userId")


def feedback_key(key_prefix: str, *parts: str) -> str:
    """Every feedback key is built here."""
    return ":".join((key_prefix, "feedback", *parts))


# A task's events are one key, not one or two per event (issue 13): a 1000-event batch cost Redis ~18 ms of CPU in
# per-event SETs and the worker ~5 ms in per-event JSON. Ids that do not name their group point at it from a hash,
# written by one scripted HSET: one argument for redis-py to pack, one command for Redis.
_POINTER_CHUNK = 1000
_HSET_ALL = """
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[1])))
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"""
_OF_GROUP = re.compile(r"(.+):(\d{1,9})")


def _group_key(key_prefix: str, group_id: str) -> str:
    return feedback_key(key_prefix, "recent", "group", group_id)


def _ids_key(key_prefix: str, period: int | str) -> str:
    return feedback_key(key_prefix, "recent", "ids", str(period))


def _named_place(group_id: str, index: int, request_id: str | None, size: int) -> bool:
    """Whether the request id alone names (group, index), so it needs no pointer."""
    return request_id == f"{group_id}:{index}" or (size == 1 and request_id == group_id)


def remember_classified(redis_client: Any, key_prefix: str,
                        items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], str | None]], *, ttl_s: int,
                        group_id: str, model_name: str | None = None) -> int:
    """Keep one task's classified events for ``ttl_s``, findable by eventId and request id (``find_classified``), in
    one round trip.

    ``items`` holds ``(event_wire, classification, request_id)``; ``group_id`` is the task's id; ``model_name``
    stands in for a classification that does not name its model. Returns how many events were kept."""
    records: list[dict[str, Any]] = []
    pointers: list[str] = []
    users: set[str] = set()
    for index, (event_wire, result, request_id) in enumerate(items):
        records.append({"event": {k: event_wire[k] for k in _EVENT_FIELDS if k in event_wire},
                        "predictedCategory": result.get("eventType"), "predictedPriority": result.get("priority"),
                        "confidence": result.get("confidence"), "modelName": result.get("modelName") or model_name,
                        "modelVersion": result.get("modelVersion"),
                        # set while an A/B experiment served the answer: feedback then scores the variant
                        "experimentId": result.get("experimentId"), "variant": result.get("variant"),
                        # names the event's shadow record (geulpi_tasks/shadow) when feedback names the eventId
                        "requestId": request_id})
        place = f"{group_id}:{index}"
        if event_wire.get("eventId") is not None:
            pointers += [f"event:{event_wire['eventId']}", place]
        if request_id and not _named_place(group_id, index, request_id, len(items)):
            pointers += [f"request:{request_id}", place]
        if event_wire.get("userId") is not None:
            users.add(str(event_wire["userId"]))
    if not records:
        return 0
    period = int(time.time() // ttl_s)
    group, ids = _group_key(key_prefix, group_id), _ids_key(key_prefix, period)
    pipe = redis_client.pipeline(transaction=False)
    pipe.set(group, fast_json.dumps(records), ex=ttl_s)
    for start in range(0, len(pointers), 2 * _POINTER_CHUNK):
        pipe.eval(_HSET_ALL, 1, ids, fast_json.dumps(pointers[start:start + 2 * _POINTER_CHUNK]),
                  (period + 2) * ttl_s)
    for user_id in users:  # one index update per user and task, not per event
        index_key = feedback_key(key_prefix, "by_user", user_id)
        pipe.sadd(index_key, *((group, ids) if pointers else (group,)))
        pipe.expire(index_key, 2 * ttl_s)  # as long as the pointers can live
    pipe.execute()
    return len(records)


def _place(redis_client: Any, key_prefix: str, kind: str, ident: str, ttl_s: int) -> tuple[str, int] | None:
    """(group id, index) an event id or request id points at, newest period first."""
    period = int(time.time() // ttl_s)
    pipe = redis_client.pipeline(transaction=False)
    for n in (period, period - 1):  # both periods' hashes in one round trip
        pipe.hget(_ids_key(key_prefix, n), f"{kind}:{ident}")
    raw = next((found for found in pipe.execute() if found is not None), None)
    if raw is not None:
        group_id, _, index = (raw.decode() if isinstance(raw, bytes) else str(raw)).rpartition(":")
        return group_id, int(index)
    if kind == "event":
        return None
    named = _OF_GROUP.fullmatch(ident)
    return (named.group(1), int(named.group(2))) if named else (ident, 0)


def find_classified(redis_client: Any, key_prefix: str, *, event_id: str | None = None,
                    request_id: str | None = None, ttl_s: int) -> dict[str, Any] | None:
    """The remembered classification named by ``event_id`` (tried first) or ``request_id``, or None."""
    for kind, ident in (("event", event_id), ("request", request_id)):
        if ident is None:
            continue
        place = _place(redis_client, key_prefix, kind, str(ident), ttl_s)
        if place is None:
            continue
        raw = redis_client.get(_group_key(key_prefix, place[0]))
        records = json.loads(raw) if raw is not None else []
        record = records[place[1]] if 0 <= place[1] < len(records) else None
        # A request id names only the event it was given to (an event with its own id is not ``<taskId>:<i>``).
        if record is not None and (kind == "event" or record.get("requestId") == ident):
            return dict(record)
    return None


def _feedback_id(value: Any, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not 1 <= len(str(value)) <= 200:
        raise PydanticCustomError("invalid_input",
                                  f"'{info.field_name}' must be a string or integer of 1 to 200 characters.")
    return str(value)


def _corrected_category(value: Any) -> Category:
    if not isinstance(value, str) or value.upper() not in CATEGORIES:
        raise PydanticCustomError("invalid_input",
                                  f"'category' is required and must be one of {', '.join(CATEGORIES)}.")
    return Category(value.upper())


def _priority(value: Any) -> Priority | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in PRIORITIES:
        raise PydanticCustomError("invalid_input", f"'priority' must be one of {', '.join(PRIORITIES)}.")
    return Priority(value.upper())


_ID_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200}, {"type": "integer"},
                                        {"type": "null"}]}


class FeedbackRequest(BaseModel):
    """``POST /feedback``: a user's correction. The event is named by ``eventId`` or ``requestId``; ``event`` (the
    event itself) is optional when it was classified recently."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={
        "required": ["category"], "description": "eventId or requestId is required"})

    eventId: Annotated[str | None, BeforeValidator(_feedback_id), WithJsonSchema(_ID_SCHEMA)] = None  # noqa: N815
    requestId: Annotated[str | None, BeforeValidator(_feedback_id), WithJsonSchema({  # noqa: N815
        **_ID_SCHEMA, "description": "taskId of a classification; '<taskId>:<i>' in a batch"})] = None
    category: Annotated[Category, BeforeValidator(_corrected_category),
                        WithJsonSchema({"type": "string", "enum": list(CATEGORIES)})] = Field(
                            default=None, validate_default=True)  # so a missing one gets the same message
    priority: Annotated[Priority | None, BeforeValidator(_priority),
                        WithJsonSchema({"type": "string", "enum": list(PRIORITIES)})] = None
    event: Annotated[Event | None, Field(
        description="The event itself; optional when it was classified recently")] = None

    @model_validator(mode="after")
    def _names_the_event(self) -> FeedbackRequest:
        inner = self.event.eventId if self.event is not None else None
        if inner is not None and self.eventId is not None and inner != self.eventId:
            raise PydanticCustomError("invalid_value", "'event.eventId' differs from 'eventId'.",
                                      {"field": "event.eventId"})
        if self.eventId is None and self.requestId is None and inner is None:
            raise PydanticCustomError("invalid_input", "Name the corrected event with 'eventId' or 'requestId'.",
                                      {"field": "eventId"})
        return self


class Feedback(BaseModel):
    """A stored correction, as ``POST /feedback`` answers it."""

    feedbackId: str  # noqa: N815 - the wire's names
    receivedAt: float | None = None  # noqa: N815
    eventId: str | None = None  # noqa: N815
    requestId: str | None = None  # noqa: N815
    category: str
    priority: str | None = None
    event: dict[str, Any]
    predictedCategory: str | None = None  # noqa: N815
    modelVersion: str | None = None  # noqa: N815
    source: Literal["request", "classification_cache"] | None = None
    replaced: Annotated[bool | None, Field(description="A previous correction of the same event was replaced")] = None
    scored: Annotated[bool | None, Field(description="Counted towards the served version's online accuracy")] = None


_FEEDBACK_ORDER = ("eventId", "requestId", "category", "priority", "event")


def parse_feedback(payload: Any) -> dict[str, Any]:
    """Validate ``{eventId or requestId, category, priority?, event?}`` through ``FeedbackRequest``;
    InvalidInput/InvalidValue name the field."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    try:
        request = FeedbackRequest.model_validate(payload)
    except ValidationError as err:
        raise input_error(err, order=_FEEDBACK_ORDER) from None
    event = None
    ids = {k: v for k, v in (("eventId", request.eventId), ("requestId", request.requestId)) if v is not None}
    if request.event is not None:
        event = event_to_wire(request.event.to_input())
        if event.get("eventId") is not None:
            ids.setdefault("eventId", event["eventId"])
    return {**ids, "category": request.category.value,
            "priority": request.priority.value if request.priority else None, "event": event}


def save_feedback(redis_client: Any, key_prefix: str, feedback: Mapping[str, Any], *,
                  default_model_name: str, cache_ttl_s: int) -> dict[str, Any]:
    """Store one parsed correction durably. When it carries no event, the event is looked up among recently
    classified ones. When the served answer is known, it is also scored for the monitoring area's online accuracy
    (``scored`` in the result). Raises NotFound when the event cannot be found, Unavailable when Redis does not
    answer."""
    try:
        return _save(redis_client, key_prefix, feedback, default_model_name, cache_ttl_s)
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; the feedback was not stored. Retry shortly.",
                          details={"dependency": "redis"}) from err


def _save(redis_client: Any, key_prefix: str, feedback: Mapping[str, Any], default_model_name: str,
          cache_ttl_s: int) -> dict[str, Any]:
    cached = find_classified(redis_client, key_prefix, event_id=feedback.get("eventId"),
                             request_id=feedback.get("requestId"), ttl_s=cache_ttl_s)
    event = feedback.get("event") or (cached or {}).get("event")
    if event is None:
        named = " / ".join(f"{f} '{feedback[f]}'" for f in ("eventId", "requestId") if feedback.get(f) is not None)
        raise NotFound(f"No recently classified event with {named}; send the event itself in 'event'.",
                       code="event_not_found", details={"eventId": feedback.get("eventId"),
                                                         "requestId": feedback.get("requestId")})
    if feedback.get("eventId") is not None:
        field = f"event:{feedback['eventId']}"
    else:
        field = f"request:{feedback['requestId']}"
    record = {"feedbackId": uuid.uuid4().hex, "receivedAt": time.time(), "eventId": feedback.get("eventId"),
              "requestId": feedback.get("requestId"), "category": feedback["category"],
              "priority": feedback.get("priority"), "event": event,
              "predictedCategory": (cached or {}).get("predictedCategory"),
              "predictedPriority": (cached or {}).get("predictedPriority"),
              "modelVersion": (cached or {}).get("modelVersion"),
              "source": "request" if feedback.get("event") else "classification_cache"}
    replaced = not redis_client.hset(feedback_key(key_prefix, "rows"), field,
                                     json.dumps(record, ensure_ascii=False))
    # Online accuracy (monitoring) counts each served answer once: a repeated correction does not count again.
    scored = bool(cached and cached.get("predictedCategory") and cached.get("modelVersion") and not replaced)
    if scored and cached is not None:
        correct = cached["predictedCategory"] == record["category"]
        record_feedback_outcome(redis_client, key_prefix, str(cached.get("modelName") or default_model_name),
                                str(cached["modelVersion"]), correct, predicted=str(cached["predictedCategory"]),
                                confidence=cached.get("confidence"))
        if cached.get("experimentId") and cached.get("variant"):
            record_variant_outcome(redis_client, key_prefix, str(cached["experimentId"]), str(cached["variant"]),
                                   correct)
    # A shadowed event: both versions' answers are scored against the correction (once per event).
    shadowed = feedback.get("requestId") or (cached or {}).get("requestId")
    if shadowed:
        record_shadow_outcome(redis_client, key_prefix, str(shadowed), record["category"])
    return {**record, "replaced": replaced, "scored": scored}


def list_feedback(redis_client: Any, key_prefix: str) -> list[dict[str, Any]]:
    """Every stored correction (full records), oldest first. Unavailable when Redis does not answer."""
    try:
        raw = redis_client.hgetall(feedback_key(key_prefix, "rows"))
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; feedback cannot be read. Retry shortly.",
                          details={"dependency": "redis"}) from err
    records = [json.loads(v) for v in raw.values()]
    return sorted(records, key=lambda r: (r.get("receivedAt", 0.0), r.get("feedbackId", "")))


def list_feedback_rows(redis_client: Any, key_prefix: str,
                       keep: Callable[[Mapping[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """The corrections as labelled training rows: the event's fields + ``category`` (+ ``priority`` when given),
    the same shape as the generator's events, so they can be appended to a training set. ``keep`` filters the
    full records first (training uses it to skip erased users' data)."""
    rows = []
    for record in list_feedback(redis_client, key_prefix):
        if keep is not None and not keep(record):
            continue
        row = dict(record["event"])
        row["category"] = record["category"]
        if record.get("priority"):
            row["priority"] = record["priority"]
        rows.append(row)
    return rows


def feedback_summary(redis_client: Any, key_prefix: str) -> dict[str, Any]:
    """Counts and online accuracy: the share of corrections whose served prediction already had the right
    category (only corrections of cached classifications know the prediction). Users mostly correct mistakes,
    so this is a lower bound on live accuracy, not an estimate of it."""
    records = list_feedback(redis_client, key_prefix)
    known = [r for r in records if r.get("predictedCategory")]
    agreed = sum(1 for r in known if r["predictedCategory"] == r["category"])
    return {"count": len(records), "withPrediction": len(known),
            "onlineAccuracy": (agreed / len(known)) if known else None,
            "perCategory": dict(sorted(Counter(r["category"] for r in records).items()))}


def record_user(record: Mapping[str, Any]) -> str | None:
    """The user a stored correction (or cached classification) belongs to, when its event named one."""
    event = record.get("event") or {}
    user = event.get("userId") if isinstance(event, Mapping) else None
    return str(user) if user is not None else None


def _erase_in_group(redis_client: Any, key: str, group_id: str, user_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Blank the user's events in one remembered task (others' stay, with the key's TTL); (place, record) of each."""
    while True:
        with redis_client.pipeline() as pipe:
            try:
                pipe.watch(key)  # erasure of another user of the same task may run at the same time
                raw = pipe.get(key)
                records = json.loads(raw) if raw is not None else []
                hits = [i for i, r in enumerate(records) if r is not None and record_user(r) == user_id]
                if not hits:
                    return []
                erased = [(f"{group_id}:{i}", records[i]) for i in hits]
                for i in hits:
                    records[i] = None
                pipe.multi()
                if all(r is None for r in records):
                    pipe.delete(key)
                else:
                    pipe.set(key, fast_json.dumps(records), keepttl=True)
                pipe.execute()
                return erased
            except redis.WatchError:
                continue


def delete_user_feedback(redis_client: Any, key_prefix: str, user_id: str) -> dict[str, int]:
    """Delete every stored correction and every cached classification of ``user_id``.

    Returns ``{"rows": n, "cachedEvents": m}``. Raises Unavailable when Redis does not answer."""
    try:
        rows_key = feedback_key(key_prefix, "rows")
        doomed = [field for field, raw in redis_client.hscan_iter(rows_key, count=1000)
                  if record_user(json.loads(raw)) == user_id]
        rows = int(redis_client.hdel(rows_key, *doomed)) if doomed else 0
        index = feedback_key(key_prefix, "by_user", user_id)
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in redis_client.smembers(index))
        groups, ids = _group_key(key_prefix, ""), _ids_key(key_prefix, "")
        erased: list[tuple[str, dict[str, Any]]] = []  # (place, record) of every erased event
        cached = 0
        for key in keys:
            if key.startswith(groups):
                erased += _erase_in_group(redis_client, key, key[len(groups):], user_id)
            elif not key.startswith(ids):  # one event per key, as written before groups (gone after their TTL)
                raw = redis_client.get(key)
                if raw is not None and record_user(json.loads(raw)) == user_id:
                    cached += int(redis_client.delete(key))
        pointers: dict[str, str] = {}
        for place, record in erased:
            if record["event"].get("eventId") is not None:
                pointers[f"event:{record['event']['eventId']}"] = place
            if record.get("requestId") is not None:
                pointers[f"request:{record['requestId']}"] = place
        for key in keys:
            if key.startswith(ids) and pointers:
                # Only pointers still at the erased places: an id may since name another user's event.
                fields = list(pointers)
                doomed = [f for f, v in zip(fields, redis_client.hmget(key, fields))
                          if v is not None and (v.decode() if isinstance(v, bytes) else v) == pointers[f]]
                if doomed:
                    redis_client.hdel(key, *doomed)
        redis_client.delete(index)
        cached += len(erased)
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; the user's feedback was not erased. Retry shortly.",
                          details={"dependency": "redis"}) from err
    return {"rows": rows, "cachedEvents": cached}
