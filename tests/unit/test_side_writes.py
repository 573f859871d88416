"""workers/side_writes.py: queued bookkeeping writes all reach Redis, in shared pipelines, and flush() waits."""

from __future__ import annotations

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
