"""JobLease on a real Redis: one live attempt per job, release of its own key only, takeover after a holder dies."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis

from geulpi_tasks.training.lease import JobLease


@pytest.fixture()
def client(redis_server: str) -> redis.Redis:
    return redis.Redis.from_url(redis_server)


def _key() -> str:
    return f"lease-test:{uuid.uuid4().hex}"


def test_a_free_lease_is_taken_held_and_released(client: redis.Redis):
    key = _key()
    with JobLease(client, key, heartbeat_s=0.5) as lease:
        assert lease.acquire(lambda: False) is True
        assert client.exists(key) and 0 < client.pttl(key) <= lease.ttl_ms
    assert not client.exists(key)


def test_a_second_attempt_gives_up_once_the_holder_finished_the_job(client: redis.Redis):
    key = _key()
    finished = threading.Event()
    with JobLease(client, key, heartbeat_s=0.2) as holder:
        assert holder.acquire(lambda: False)
        outcome: list[bool] = []
        second = threading.Thread(target=lambda: outcome.append(JobLease(client, key, 0.2).acquire(finished.is_set)))
        second.start()
        finished.set()  # the holder stored the job's result
        second.join(timeout=60)
        assert outcome == [False]


def test_a_lease_whose_holder_died_is_taken_over(client: redis.Redis):
    key = _key()
    client.set(key, "dead-attempt", px=400)  # a holder that stopped beating: its key expires by itself
    with JobLease(client, key, heartbeat_s=0.2) as lease:
        assert lease.acquire(lambda: False) is True
        assert client.get(key) != b"dead-attempt"


def test_release_never_deletes_a_key_another_attempt_now_holds(client: redis.Redis):
    key = _key()
    with JobLease(client, key, heartbeat_s=0.2) as lease:
        assert lease.acquire(lambda: False)
        client.set(key, "someone-else")  # our key expired and another attempt took it
    assert client.get(key) == b"someone-else"
    client.delete(key)
