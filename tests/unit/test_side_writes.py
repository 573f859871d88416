"""workers/side_writes.py: queued bookkeeping writes all reach Redis, in shared pipelines, and flush() waits."""

from __future__ import annotations

import threading
import uuid

import redis

from geulpi_tasks.feedback import delete_user_feedback, feedback_key, find_classified, remember_classified
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.monitoring.prediction_log import (
    PredictionRecord,
    entry_records,
    logged_predictions,
    read_window,
    record_predictions,
)
from workers.side_writes import SideWriter


def test_every_queued_write_is_sent_and_flush_waits_for_them(redis_server):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_server)
    writer = SideWriter(lambda: redis.Redis.from_url(redis_server))
    prefix = "side-writes-test"

    def classify(k: int) -> None:
        for i in range(100):
            n = k * 100 + i
            writer.submit("feedback cache", lambda c, n=n: remember_classified(
                c, prefix, [({"title": "x", "eventId": f"e{n}"}, {"eventType": "WORK"}, f"r{n}")], ttl_s=60,
                group_id=f"r{n}"))
            writer.submit("prediction log", lambda c: record_predictions(
                c, prefix, "m", [PredictionRecord(model_version="1", status="success")], max_len=100000))

    threads = [threading.Thread(target=classify, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.flush(10.0)
    assert client.xlen(MonitoringKeys(prefix).predictions("m")) == 400
    assert logged_predictions(client, prefix, "m") == 400
    assert len(list(client.scan_iter(f"{prefix}:feedback:recent:group:*", count=1000))) == 400
    assert all(find_classified(client, prefix, event_id=f"e{n}", ttl_s=60)["requestId"] == f"r{n}"  # type: ignore[index]
               for n in range(400))


def test_a_redis_outage_costs_only_the_writes_queued_then(caplog):  # type: ignore[no-untyped-def]
    writer = SideWriter(lambda: redis.Redis(port=1, socket_connect_timeout=0.2))
    writer.submit("prediction log", lambda c: c.xadd("k", {"a": "1"}))
    assert writer.flush(10.0)
    assert "side writes not stored" in caplog.text and "prediction log" in caplog.text


def test_batched_writes_store_every_record_byte_for_byte(redis_server):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_server)
    prefix = "side-writes-exact"
    events = [{"title": f"회의 🎂 \"q\" \\ {i}", "startTime": "2024-01-01T10:00:00", "endTime": "2024-01-01T11:00:00",
               **({"eventId": f"e{i}"} if i % 2 else {}), **({"userId": f"u{i % 3}"} if i % 5 else {})}
              for i in range(1203)]
    items = [(e, {"eventType": "WORK", "priority": "LOW", "confidence": 0.123456, "modelVersion": "1"}, f"r{i}")
             for i, e in enumerate(events)]
    written = remember_classified(client, prefix, items, ttl_s=60, group_id="task-9", model_name="m")
    assert written == 1203
    # one key holds the task's events; event ids and the callers' own request ids point into it
    assert client.exists(feedback_key(prefix, "recent", "group", "task-9"))
    assert 0 < client.ttl(feedback_key(prefix, "recent", "group", "task-9")) <= 60
    for i in (0, 1, 2, 1202):
        by_request = find_classified(client, prefix, request_id=f"r{i}", ttl_s=60)
        assert by_request is not None and by_request["event"] == events[i] and by_request["modelName"] == "m"
        by_event = find_classified(client, prefix, event_id=f"e{i}", ttl_s=60)
        assert by_event == (by_request if i % 2 else None)
    assert find_classified(client, prefix, request_id="task-9:5", ttl_s=60) is None  # named by its own request id
    assert find_classified(client, prefix, request_id="r1203", ttl_s=60) is None
    group = feedback_key(prefix, "recent", "group", "task-9").encode()
    assert group in client.smembers(f"{prefix}:feedback:by_user:u1")
    assert 0 < client.ttl(f"{prefix}:feedback:by_user:u1") <= 120

    records = [PredictionRecord(model_version="1", status="success", latency_ms=0.05 * i, predicted_class="WORK",
                                confidence=0.9, features={"lang": "ko", "title_length": i}) for i in range(1500)]
    records.append(PredictionRecord(model_version="2", status="error"))
    assert record_predictions(client, prefix, "m", records, max_len=100000) == 1501
    stored = client.xrange(MonitoringKeys(prefix).predictions("m"))
    assert len(stored) == 2  # one entry per 1000 predictions
    assert [r for _, raw in stored for r in entry_records(raw)] == records
    assert read_window(client, prefix, "m", since=0, until=records[-1].ts + 1) == records
    assert logged_predictions(client, prefix, "m") == 1501


def test_the_prediction_log_is_capped_in_predictions(redis_server):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_server)
    prefix = f"pl-cap-{uuid.uuid4().hex[:6]}"
    record = PredictionRecord(model_version="1", status="success", latency_ms=1.0, predicted_class="WORK")
    for k in range(300):  # batches of 37 and single predictions, mixed
        record_predictions(client, prefix, "m", [record] * (37 if k % 3 else 1), max_len=2000)
    held = sum(len(entry_records(raw)) for _, raw in client.xrange(MonitoringKeys(prefix).predictions("m")))
    assert held == logged_predictions(client, prefix, "m")
    assert 2000 <= held <= 2000 + 100 + 37  # the cap, its slack and one entry
    keys = MonitoringKeys(prefix)
    ids = [i for i, _ in client.xrange(keys.predictions("m"))]
    assert [s.split()[0] for s in client.lrange(keys.prediction_sizes("m"), 0, -1)] == ids


def test_erasure_blanks_only_the_users_events_of_a_shared_task(redis_server):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_server)
    prefix = f"fc-erase-{uuid.uuid4().hex[:6]}"
    events = [{"title": f"event {i}", "eventId": f"e{i}", "userId": "alice" if i % 2 else "bob"} for i in range(6)]
    items = [(e, {"eventType": "WORK"}, f"own-{i}" if i == 3 else f"t1:{i}") for i, e in enumerate(events)]
    remember_classified(client, prefix, items, ttl_s=60, group_id="t1")
    remember_classified(client, prefix, [(events[1], {"eventType": "HEALTH"}, "t2")], ttl_s=60, group_id="t2")
    assert delete_user_feedback(client, prefix, "alice") == {"rows": 0, "cachedEvents": 4}
    for i in range(6):
        found = find_classified(client, prefix, event_id=f"e{i}", ttl_s=60)
        assert (found is None) == bool(i % 2)
        assert (find_classified(client, prefix, request_id=items[i][2], ttl_s=60) is None) == bool(i % 2)
    assert not client.exists(feedback_key(prefix, "recent", "group", "t2"))  # only alice's event: the key is gone
    kinds = {"string": client.get, "hash": client.hgetall, "set": client.smembers}
    text = repr({k: kinds[client.type(k).decode()](k) for k in client.scan_iter(f"{prefix}:*")})
    assert "alice" not in text and "own-3" not in text and "event:e1" not in text and "event 1" not in text
    assert "bob" in text and "event 2" in text
    assert 0 < client.ttl(feedback_key(prefix, "recent", "group", "t1")) <= 60
