"""workers/side_writes.py: queued bookkeeping writes all reach Redis, in shared pipelines, and flush() waits."""

from __future__ import annotations

import json
import threading

import redis

from geulpi_tasks.feedback import remember_classified
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.monitoring.prediction_log import PredictionRecord, record_predictions
from workers.side_writes import SideWriter


def test_every_queued_write_is_sent_and_flush_waits_for_them(redis_server):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_server)
    writer = SideWriter(lambda: redis.Redis.from_url(redis_server))
    prefix = "side-writes-test"

    def classify(k: int) -> None:
        for i in range(100):
            n = k * 100 + i
            writer.submit("feedback cache", lambda c, n=n: remember_classified(
                c, prefix, [({"title": "x", "eventId": f"e{n}"}, {"eventType": "WORK"}, f"r{n}")], ttl_s=60))
            writer.submit("prediction log", lambda c: record_predictions(
                c, prefix, "m", [PredictionRecord(model_version="1", status="success")], max_len=100000))

    threads = [threading.Thread(target=classify, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.flush(10.0)
    assert client.xlen(MonitoringKeys(prefix).predictions("m")) == 400
    assert len(list(client.scan_iter(f"{prefix}:feedback:recent:*", count=1000))) == 800


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
    written = remember_classified(client, prefix, items, ttl_s=60)
    assert written == 1203 + 601
    record = client.get(f"{prefix}:feedback:recent:event:e1")
    assert record is not None and json.loads(record)["event"] == events[1]
    assert record == client.get(f"{prefix}:feedback:recent:request:r1")
    assert 0 < client.ttl(f"{prefix}:feedback:recent:request:r0") <= 60
    assert client.scard(f"{prefix}:feedback:by_user:u1") == sum(
        1 + (i % 2) for i in range(1203) if i % 5 and i % 3 == 1)
    assert 0 < client.ttl(f"{prefix}:feedback:by_user:u1") <= 60

    records = [PredictionRecord(model_version="1", status="success", latency_ms=0.05 * i, predicted_class="WORK",
                                confidence=0.9, features={"lang": "ko", "title_length": i}) for i in range(1500)]
    records.append(PredictionRecord(model_version="2", status="error"))
    assert record_predictions(client, prefix, "m", records, max_len=100000) == 1501
    stored = client.xrange(MonitoringKeys(prefix).predictions("m"))
    assert [PredictionRecord.from_fields(raw) for _, raw in stored] == records
