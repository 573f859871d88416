import time

import pytest

from api.breaker import QueueBreaker
from geulpi_tasks.errors import Unavailable


class Workers:
    """Which queues have a worker answering pings (a stand-in for Celery's ping in a pure unit test)."""

    def __init__(self):
        self.alive: set[str] = set()
        self.pings = 0

    def __call__(self, queue: str) -> bool:
        self.pings += 1
        return queue in self.alive


def test_a_timeout_while_a_worker_answers_does_not_open_the_breaker():
    workers = Workers()
    workers.alive.add("inference")
    breaker = QueueBreaker(cooldown_s=0.2, alive=workers)
    breaker.timed_out("inference")  # a lost message or a backlog, not a dead queue
    assert not breaker.is_open("inference")
    breaker.before_call("inference")


def test_no_worker_opens_only_that_queue_then_one_probe_closes_it():
    workers = Workers()
    breaker = QueueBreaker(cooldown_s=0.2, alive=workers)
    breaker.timed_out("inference")
    with pytest.raises(Unavailable) as caught:
        breaker.before_call("inference")
    assert caught.value.details["dependency"] == "inference_worker"
    breaker.before_call("monitoring")
    pings = workers.pings
    time.sleep(0.25)
    with pytest.raises(Unavailable):  # the probe finds nobody: open for another cool-down
        breaker.before_call("inference")
    assert workers.pings == pings + 1
    with pytest.raises(Unavailable):  # no second ping within the cool-down
        breaker.before_call("inference")
    assert workers.pings == pings + 1
    workers.alive.add("inference")
    time.sleep(0.25)
    breaker.before_call("inference")  # the probe gets a reply: closed, and this call goes ahead
    assert not breaker.is_open("inference")


def test_a_failing_ping_counts_as_no_worker():
    def broken(queue: str) -> bool:
        raise ConnectionError("broker gone")

    breaker = QueueBreaker(cooldown_s=0.2, alive=broken)
    breaker.timed_out("inference")
    assert breaker.is_open("inference")
