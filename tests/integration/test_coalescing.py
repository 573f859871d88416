"""Coalesced single classifications (api/coalescer.py) through a real inference worker on a real Redis: each caller
gets its own answer, every event is counted once, a bad event costs no other, no worker is a 504 per caller.

Grouping is made deterministic, not timed: the window is long and a group closes when ``max_size`` callers joined.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from api import create_app
from api.coalescer import Coalescer
from api.state import api_state
from geulpi_tasks.errors import InvalidInput, Timeout
from geulpi_tasks.monitoring.prediction_log import logged_predictions
from tests.conftest import keyed_client
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT

pytestmark = pytest.mark.usefixtures("inference_worker")

TITLES = ["Sprint planning meeting", "요가 수업", "생일 파티", "Spanish class", "Dentist appointment",
          "Quarterly report deadline", "Dinner with friends", "Gym workout"]


class SpyGateway:
    """The app's gateway, recording which task each publish named."""

    def __init__(self, gateway: Any):
        self.gateway = gateway
        self.names: list[str] = []
        self.lock = threading.Lock()

    def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.names.append(name)
        return self.gateway.run(name, *args, **kwargs)

    def remember_part(self, *args: Any) -> None:
        self.gateway.remember_part(*args)


def _coalescer(gateway: Any, size: int) -> Coalescer:
    return Coalescer(gateway, window_s=60.0, max_size=size)


def _event(i: int, **extra: Any) -> dict[str, Any]:
    return {"title": TITLES[i % len(TITLES)], "eventId": f"co-{i}", "startTime": "2024-01-23T10:00:00",
            "endTime": "2024-01-23T11:00:00", **extra}


def _classify_all(coalescer: Coalescer, events: list[dict[str, Any]], timeout: float = 30.0) -> list[Any]:
    # Every call is counted as on its way first (as the WSGI middleware does), so the first one waits for all.
    arrivals = [coalescer.arrive() for _ in events]

    def one(i: int) -> Any:
        event = events[i]
        try:
            return coalescer.classify(event, users=[event["userId"]] if "userId" in event else [], timeout=timeout,
                                      arrival=arrivals[i])
        except Exception as err:  # noqa: BLE001 - the test inspects what each caller got
            return err

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(one, range(len(events))))


def _predictions(client: Any) -> float:
    text = client.get("/monitoring/metrics").get_data(as_text=True)
    return sum(float(line.rpartition(" ")[2]) for line in text.splitlines()
               if line.startswith("ml_predictions_total{") and 'status="success"' in line)


def test_concurrent_distinct_events_share_one_task_and_each_caller_gets_its_own_answer(api_app, base_settings):
    spy = SpyGateway(api_state(api_app).gateway)
    client = keyed_client(api_app)
    r = redis.Redis.from_url(base_settings.redis_url)
    prefix, model = base_settings.key_prefix, base_settings.model_name
    before = (_predictions(client), logged_predictions(r, prefix, model))
    alone = {t: api_app.test_client().post("/v2/classify-event", json=_event(i)).json["eventType"]
             for i, t in enumerate(TITLES)}

    events = [_event(i, **({"requestId": f"own-{i}"} if i % 3 == 0 else {})) for i in range(8)]
    answers = _classify_all(_coalescer(spy, 8), events)

    assert spy.names == [CLASSIFY_COALESCED]
    assert all(isinstance(a, dict) for a in answers), answers
    assert [a["eventId"] for a in answers] == [f"co-{i}" for i in range(8)]
    assert [a["eventType"] for a in answers] == [alone[TITLES[i]] for i in range(8)]
    request_ids = [a["requestId"] for a in answers]
    assert len(set(request_ids)) == 8
    assert all(request_ids[i] == f"own-{i}" for i in range(0, 8, 3))
    assert all(a["latencyMs"] > 0 and a["modelVersion"] for a in answers)

    # Counted once per event (the 8 alone and the 8 coalesced): metrics and the prediction log (written just after
    # the answer), and each event can be corrected by its own requestId.
    deadline = time.monotonic() + 10
    def counted() -> tuple[float, int]:
        return _predictions(client) - before[0], logged_predictions(r, prefix, model) - before[1]

    while counted() != (16, 16) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted() == (16, 16)
    for request_id in request_ids:
        feedback = client.post("/feedback", json={"requestId": request_id, "category": "WORK"})
        assert feedback.status_code in (200, 201), feedback.json


def test_one_bad_event_in_a_coalesced_task_costs_no_other(api_app, base_settings):
    gateway = api_state(api_app).gateway
    good = _event(1)
    bad = {**_event(2), "endTime": "2024-01-23T09:00:00"}  # ends before it starts: 422 for that caller only
    outcome = gateway.run(CLASSIFY_COALESCED, [[good, bad, good], ["a", "b", "c"]], timeout=30)
    first, second, third = outcome["results"]
    assert first["eventType"] == third["eventType"] and first["requestId"] == "a" and third["requestId"] == "c"
    assert second["error"]["code"] == "invalid_value"
    assert outcome["count"] == 2


def test_a_failing_caller_gets_its_own_error_and_the_others_their_answers(api_app):
    class OneBad(SpyGateway):
        def run(self, name: str, args: list[Any], **kwargs: Any) -> Any:
            events, ids = args
            events = [{**e, "endTime": "2024-01-23T09:00:00"} if e["eventId"] == "co-3" else e for e in events]
            return super().run(name, [events, ids], **kwargs)

    answers = _classify_all(_coalescer(OneBad(api_state(api_app).gateway), 6), [_event(i) for i in range(6)])
    assert isinstance(answers[3], InvalidInput) and answers[3].code == "invalid_value"
    assert [a["eventId"] for i, a in enumerate(answers) if i != 3] == ["co-0", "co-1", "co-2", "co-4", "co-5"]


def test_http_callers_through_the_app_each_get_their_own_answer(base_settings, celery_client):
    # The full handler path under concurrency (as gunicorn gthread runs it), coalescing on.
    app = create_app(base_settings.replace(coalesce_window_ms=20.0, coalesce_max=4), celery=celery_client)

    def call(i: int) -> Any:
        return app.test_client().post("/v2/classify-event", json=_event(i, userId=f"u-{i}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(call, range(48)))
    assert all(r.status_code == 200 for r in responses), [r.json for r in responses if r.status_code != 200]
    assert [r.json["eventId"] for r in responses] == [f"co-{i}" for i in range(48)]
    by_title: dict[str, set[str]] = {}
    for i, r in enumerate(responses):
        by_title.setdefault(TITLES[i % len(TITLES)], set()).add(r.json["eventType"])
    assert all(len(kinds) == 1 for kinds in by_title.values())
    assert len({r.json["requestId"] for r in responses}) == 48


def test_no_worker_answers_504_to_every_caller_each_with_its_own_pollable_task(base_settings):
    # Database 1 of the test server: same Redis, but no worker listens on its queues.
    settings = base_settings.replace(redis_url=base_settings.redis_url.rsplit("/", 1)[0] + "/1", sync_timeout_s=1.0)
    app = create_app(settings)
    gateway = api_state(app).gateway
    started = time.monotonic()
    errors = _classify_all(_coalescer(gateway, 4), [_event(i) for i in range(4)], timeout=1.0)
    assert time.monotonic() - started < 8
    assert all(isinstance(e, Timeout) for e in errors), errors
    task_ids = [e.details["taskId"] for e in errors]
    assert len(set(task_ids)) == 4
    client = app.test_client()
    for task_id in task_ids:
        status = client.get(f"/tasks/{task_id}")
        assert status.status_code == 200 and status.json["state"] == "PENDING" and status.json["taskId"] == task_id
    app.extensions["geulpi"].celery.close()


def test_a_coalesced_callers_task_shows_only_its_own_answer(api_app):
    # What /tasks/<id> shows for a caller of a coalesced task that timed out, once the worker answered.
    gateway = api_state(api_app).gateway
    outcome_id = "g-" + str(time.time_ns())
    result = api_app.extensions["geulpi"].celery.send_task(
        CLASSIFY_COALESCED, args=[[_event(0), _event(1)], ["x0", "x1"]], task_id=outcome_id)
    result.get(timeout=30)
    gateway.remember_part("mine-" + outcome_id, outcome_id, 1)
    body = api_app.test_client().get(f"/tasks/mine-{outcome_id}").json
    assert body["state"] == "SUCCESS" and body["result"]["eventId"] == "co-1" and body["result"]["requestId"] == "x1"
    assert "results" not in body["result"]


def test_a_call_with_nobody_else_on_its_way_goes_alone_at_once(api_app):
    spy = SpyGateway(api_state(api_app).gateway)
    coalescer = Coalescer(spy, window_s=60.0, max_size=8)
    answer = coalescer.classify(_event(0), users=[], timeout=30)
    assert answer["eventId"] == "co-0" and spy.names == [CLASSIFY_EVENT]


def test_calls_arriving_while_a_message_is_in_flight_leave_together_when_it_is_answered(api_app):
    release = threading.Event()

    class HoldFirst(SpyGateway):
        def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
            if not self.names:
                release.wait(30)  # the first message stays in flight until the others have gathered
            return super().run(name, *args, **kwargs)

    spy = HoldFirst(api_state(api_app).gateway)
    coalescer = Coalescer(spy, window_s=0.0, max_size=16, max_in_flight=1)
    with ThreadPoolExecutor(max_workers=5) as pool:
        first = pool.submit(coalescer.classify, _event(0), users=[], timeout=30)
        while coalescer._in_flight == 0:
            time.sleep(0.01)
        rest = [pool.submit(coalescer.classify, _event(i), users=[], timeout=30) for i in range(1, 5)]
        deadline = time.monotonic() + 30
        while (coalescer._open is None or len(coalescer._open.calls) < 4) and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        answers = [first.result(), *(f.result() for f in rest)]
    assert [a["eventId"] for a in answers] == [f"co-{i}" for i in range(5)]
    assert spy.names == [CLASSIFY_EVENT, CLASSIFY_COALESCED]
