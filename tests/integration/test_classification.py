"""Classification through a real inference worker on a real Redis broker, with the model from a real registry."""

import time

import pytest

from geulpi_tasks.schemas import CATEGORIES

pytestmark = pytest.mark.usefixtures("inference_worker")


def _post(client, path, body, **kw):
    return client.post(path, json=body, **kw)


def test_english_event_is_classified_by_the_worker(client, production_model):
    response = _post(client, "/v2/classify-event", {
        "title": "Team standup meeting", "description": "Daily sync", "eventId": "e-1",
        "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:30:00"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["eventId"] == "e-1"
    assert body["eventType"] == "WORK"
    assert body["modelVersion"] == production_model and body["modelName"] == "event_classifier"
    assert set(body["probabilities"]) == set(CATEGORIES)
    assert abs(sum(body["probabilities"].values()) - 1.0) < 1e-4
    assert body["confidence"] == max(body["probabilities"].values())
    assert body["needsReview"] == (body["confidence"] < 0.7)
    assert 1 <= len(body["suggestedTags"]) <= 5 and "meeting" in body["suggestedTags"]
    assert body["latencyMs"] > 0


def test_korean_event_is_classified(client):
    response = _post(client, "/v2/classify-event", {
        "title": "치과 예약 🦷", "location": "강남 서울치과", "startTime": "2024-03-05T18:30:00",
        "endTime": "2024-03-05T19:00:00"})
    assert response.status_code == 200, response.json
    assert response.json["eventType"] == "HEALTH"
    assert "medical" in response.json["suggestedTags"]


def test_original_path_answers_the_same(client):
    body = {"title": "Dinner with friends", "startTime": "2024-02-10T19:00:00", "endTime": "2024-02-10T22:00:00"}
    a = _post(client, "/classify-event", body).json
    b = _post(client, "/v2/classify-event", body).json
    assert a["eventType"] == b["eventType"] == "SOCIAL"
    assert a["probabilities"] == b["probabilities"]


def test_batch_keeps_input_order(client):
    titles = ["Sprint planning", "요가 수업", "생일 파티 🎂", "Spanish class", "Pay rent", "주간 회의"] * 5
    events = [{"title": t, "eventId": str(i), "startTime": "2024-01-23T10:00:00",
               "endTime": "2024-01-23T11:00:00"} for i, t in enumerate(titles)]
    response = _post(client, "/v2/classify-events", {"events": events})
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["eventId"] for r in results] == [str(i) for i in range(len(titles))]
    singles = {t: _post(client, "/v2/classify-event", {**events[i], "eventId": None}).json["eventType"]
               for i, t in enumerate(titles[:6])}
    assert [r["eventType"] for r in results[:6]] == [singles[t] for t in titles[:6]]


def test_async_request_is_polled_through_tasks(client):
    body = {"title": "Gym - leg day", "startTime": "2024-01-24T07:00:00", "endTime": "2024-01-24T08:00:00"}
    response = _post(client, "/v2/classify-event?async=true", body)
    assert response.status_code == 202
    task_id = response.json["taskId"]
    assert response.headers["Location"] == f"/tasks/{task_id}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = client.get(f"/tasks/{task_id}").json
        if status["ready"]:
            break
        time.sleep(0.05)
    assert status["state"] == "SUCCESS"
    assert status["result"]["eventType"] == "HEALTH"


def test_prefer_header_also_makes_it_async(client):
    body = {"title": "Read ch. 3", "startTime": "2024-01-24T21:00:00", "endTime": "2024-01-24T22:00:00"}
    response = _post(client, "/v2/classify-events", {"events": [body]}, headers={"Prefer": "respond-async"})
    assert response.status_code == 202


def test_unknown_task_id_is_404(client):
    response = client.get("/tasks/does-not-exist")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_health_is_ok_with_everything_up(client):
    response = client.get("/health")
    assert response.status_code == 200, response.json
    assert all(check["ok"] for check in response.json["checks"].values())


def test_concurrent_sync_requests_each_get_their_own_answer(api_app):
    # API threads wait on results concurrently (as under gunicorn gthread): no answer may go to the wrong caller.
    from concurrent.futures import ThreadPoolExecutor

    titles = ["Sprint planning", "요가 수업", "생일 파티", "Spanish class"]

    def call(i):
        body = {"title": titles[i % 4], "eventId": f"c-{i}", "startTime": "2024-01-23T10:00:00",
                "endTime": "2024-01-23T11:00:00"}
        return api_app.test_client().post("/v2/classify-event", json=body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(call, range(48)))
    assert all(r.status_code == 200 for r in responses), [r.json for r in responses if r.status_code != 200]
    assert [r.json["eventId"] for r in responses] == [f"c-{i}" for i in range(48)]
    by_title = {}
    for i, r in enumerate(responses):
        by_title.setdefault(titles[i % 4], set()).add(r.json["eventType"])
    assert all(len(kinds) == 1 for kinds in by_title.values())


def test_answers_carry_a_request_id_usable_for_feedback(client):
    body = {"title": "Dentist", "startTime": "2024-01-24T15:00:00", "endTime": "2024-01-24T16:00:00"}
    own = _post(client, "/v2/classify-event", {**body, "requestId": "req-42"}).json
    assert own["requestId"] == "req-42"
    generated = _post(client, "/v2/classify-event", body).json["requestId"]
    assert generated and generated != "req-42"
    batch = _post(client, "/v2/classify-events", {"events": [body, {**body, "requestId": "r-2"}]}).json["results"]
    assert batch[0]["requestId"].endswith(":0") and batch[1]["requestId"] == "r-2"
    # The worker remembers classified events just after answering, so allow it a moment.
    deadline = time.monotonic() + 5
    while True:
        feedback = client.post("/feedback", json={"requestId": "req-42", "category": "HEALTH"})
        if feedback.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert feedback.status_code in (200, 201), feedback.json


def _predictions_counted(client) -> float:
    text = client.get("/monitoring/metrics").get_data(as_text=True)
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("ml_predictions_total{") and 'status="success"' in line)


def test_a_varied_batch_answers_as_single_calls_and_counts_every_event(client, base_settings):
    import redis as redis_lib

    from geulpi_tasks.data.generator import generate_events
    from geulpi_tasks.feedback import feedback_key, find_classified
    from geulpi_tasks.monitoring.prediction_log import logged_predictions

    events = [{k: v for k, v in e.items() if k not in {"category", "priority", "lang"}}
              for e in generate_events(200, seed=13)]
    events[::7] = [{**e, "title": f"  {e['title']} !! ", "startTime": e["startTime"] + "Z", "endTime": e["endTime"]
                    + "Z", "attendees": [{"email": "a@x.io"}, "b@x.io"], "userId": 7} for e in events[::7]]
    redis_client = redis_lib.Redis.from_url(base_settings.redis_url)
    prefix, model = base_settings.key_prefix, base_settings.model_name
    # Earlier tests' bookkeeping is written just after their answers: start once it has landed.
    logged, deadline = -1, time.monotonic() + 10
    while logged != logged_predictions(redis_client, prefix, model) and time.monotonic() < deadline:
        logged = logged_predictions(redis_client, prefix, model)
        time.sleep(0.5)
    counted = _predictions_counted(client)

    response = _post(client, "/v2/classify-events", {"events": events})
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert response.json["count"] == len(results) == len(events)
    for event, result in zip(events[:40], results[:40]):
        single = _post(client, "/v2/classify-event", event).json
        for key in ("eventType", "priority", "needsReview", "suggestedTags", "modelVersion", "eventId"):
            assert result[key] == single[key], (key, event)
        assert all(abs(result["probabilities"][c] - single["probabilities"][c]) <= 1e-6 + 1e-12 for c in CATEGORIES)

    # The bookkeeping is written just after the answer: wait for it (bounded), then check it is exact.
    deadline = time.monotonic() + 10
    while logged_predictions(redis_client, prefix, model) < logged + len(events) + 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logged_predictions(redis_client, prefix, model) == logged + len(events) + 40
    assert _predictions_counted(client) == counted + len(events) + 40
    ttl = base_settings.feedback_cache_ttl_s
    for event, result in zip(events, results):
        remembered = find_classified(redis_client, prefix, request_id=result["requestId"], ttl_s=ttl)
        assert remembered is not None and remembered["event"]["title"] == event["title"].strip()
        assert remembered["predictedCategory"] == result["eventType"] and remembered["modelName"] == model
    task_id = results[0]["requestId"].rsplit(":", 1)[0]
    users = redis_client.smembers(feedback_key(prefix, "by_user", "7"))
    assert feedback_key(prefix, "recent", "group", task_id).encode() in users


def test_a_bad_event_in_a_batch_is_a_400_naming_it_before_the_queue(client):
    events = [{"title": "ok", "startTime": "2024-01-23T10:00:00", "endTime": "2024-01-23T11:00:00"}] * 3
    events = [*events, {**events[0], "endTime": "2024-01-23T09:00:00"}, {**events[0], "title": 5}]
    response = _post(client, "/v2/classify-events", {"events": events})
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["field"] == "events[3].endTime"
