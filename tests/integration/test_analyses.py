"""The four calendar analyses through a real inference worker: known answers on hand-built calendars, categories
filled in by the production model, async mode and deterministic output."""

import time
from datetime import datetime, timedelta

import pytest

from api import create_app
from tests.conftest import WorkerProcess
from workers.celery_app import create_celery

MONDAY = datetime(2024, 5, 6)


def ev(title, start, minutes, category=None, **extra):
    out = {"title": title, "startTime": start.isoformat(),
           "endTime": (start + timedelta(minutes=minutes)).isoformat(), **extra}
    if category is not None:
        out["category"] = category
    return out


def at(day, hour, minute=0):
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def balanced_week():
    events = []
    for day in range(7):
        events += [ev("Work", at(day, 9), 240, "WORK"), ev("Errands", at(day, 14), 120, "PERSONAL"),
                   ev("Gym", at(day, 7), 90, "HEALTH"), ev("Friends", at(day, 19), 60, "SOCIAL"),
                   ev("Course", at(day, 21), 60, "LEARNING"), ev("Misc", at(day, 22), 30, "OTHER")]
    return events


def balance_body(events, **extra):
    return {"userId": "u1", "startDate": "2024-05-06", "endDate": "2024-05-12", "events": events, **extra}


def eight_weeks_with_a_3am_meeting():
    """Team sync every Monday 10:00 for eight weeks, daily email on weekdays, and one meeting at 03:00."""
    events = []
    for week in range(8):
        events.append(ev("Team sync", at(7 * week, 10), 30, "WORK", attendees=["team@x"]))
        for weekday in range(5):
            events.append(ev("Email", at(7 * week + weekday, 9), 45, "WORK"))
            events.append(ev("Project work", at(7 * week + weekday, 13), 180, "WORK"))
    events.append(ev("Emergency meeting", at(23, 3), 60, "WORK", eventId="night", attendees=["ops@x"]))
    return events


def month(overworked):
    events = []
    for day in range(28):
        if overworked:
            events += [ev("Client meeting", at(day, 8), 120, "WORK", attendees=["c"]),
                       ev("Build", at(day, 10), 600, "WORK"), ev("Late fixes", at(day, 22, 30), 150, "WORK")]
        elif at(day, 0).weekday() < 5:
            events += [ev("Project work", at(day, 9), 180, "WORK"), ev("Lunch", at(day, 12), 60, "PERSONAL"),
                       ev("Project work", at(day, 13), 240, "WORK")]
        else:
            events.append(ev("Family brunch", at(day, 11), 120, "SOCIAL"))
    return events


def post(client, path, body, **kw):
    response = client.post(path, json=body, **kw)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def wait_for_task(client, task_id, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/tasks/{task_id}").json
        if status["ready"]:
            return status
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} not ready in {timeout} s: {status}")


@pytest.mark.usefixtures("inference_worker")
class TestWithTheProductionModel:
    def test_balanced_week_scores_above_a_work_only_week(self, client):
        balanced = post(client, "/analyze-balance", balance_body(balanced_week()))
        work_only = post(client, "/analyze-balance",
                         balance_body([ev("Work", at(day, 9), 600, "WORK") for day in range(7)]))
        assert balanced["score"] > 0.95
        assert work_only["score"] == pytest.approx(0.4)  # 1 − ½(|100 − 40| + 60) / 100
        assert balanced["categorizedByModel"] == work_only["categorizedByModel"] == 0
        assert "modelVersion" not in balanced

    def test_out_of_hours_work_gets_moved_into_working_hours(self, client):
        body = {"userId": "u1", "targetDate": "2024-05-06", "events": [
            ev("Report", at(0, 20), 60, "WORK", eventId="late"),
            ev("Board meeting", at(0, 10), 60, "WORK", eventId="board", fixed=True),
            ev("Dinner", at(0, 18, 30), 90, "SOCIAL")]}
        result = post(client, "/optimize-schedule", body)
        [move] = result["suggestions"]
        assert move["eventId"] == "late" and "outside_working_hours" in move["reasonCodes"]
        start, end = datetime.fromisoformat(move["suggestedStart"]), datetime.fromisoformat(move["suggestedEnd"])
        assert at(0, 9) <= start and end <= at(0, 18) and end - start == timedelta(hours=1)
        assert result["balanceScoreBefore"] < result["balanceScoreAfter"] == 1.0
        assert result["fixedEventCount"] == 1 and result["categorizedByModel"] == 0

    def test_weekly_meeting_is_found_and_the_3am_meeting_is_an_anomaly(self, client):
        result = post(client, "/detect-patterns", {"userId": "u1", "events": eight_weeks_with_a_3am_meeting()})
        assert result["status"] == "ok"
        [sync] = [p for p in result["patterns"] if p["type"] == "weekly_event" and p["title"] == "Team sync"]
        assert sync["daysOfWeek"] == ["MONDAY"] and sync["startTime"] == "10:00" and sync["frequency"] == 8
        [night] = [a for a in result["anomalies"] if a["eventId"] == "night"]
        assert night["severity"] == "high" and "unusual_time" in night["types"]

    def test_an_overworked_month_has_higher_burnout_risk_than_a_normal_month(self, client):
        normal = post(client, "/analyze-burnout", {"userId": "u1", "events": month(overworked=False)})
        overworked = post(client, "/analyze-burnout", {"userId": "u1", "events": month(overworked=True),
                                                       "includeRecommendations": True})
        assert overworked["riskScore"] > normal["riskScore"]
        assert normal["level"] == "low" and overworked["level"] in {"high", "critical"}
        assert overworked["warnings"] and overworked["preventiveActions"]
        assert "recommendations" not in normal

    def test_events_without_category_are_categorised_by_the_model(self, client, production_model):
        standups = [ev("Team standup meeting", at(day, 9), 60, description="Daily sync") for day in range(5)]
        result = post(client, "/analyze-balance", balance_body([*standups, ev("Gym", at(0, 7), 60, "HEALTH")]))
        assert result["categorizedByModel"] == 5
        assert result["modelVersion"] == production_model
        hours = {row["category"]: row["hours"] for row in result["categories"]}
        assert hours["WORK"] == 5.0 and hours["HEALTH"] == 1.0

    def test_every_analysis_reports_how_many_events_the_model_categorised(self, client):
        uncategorised = [ev("Team standup meeting", at(day, 9), 30) for day in range(14)]
        for path, body in [("/optimize-schedule", {"userId": "u", "targetDate": "2024-05-06",
                                                   "events": uncategorised}),
                           ("/detect-patterns", {"userId": "u", "events": uncategorised}),
                           ("/analyze-burnout", {"userId": "u", "events": uncategorised})]:
            assert post(client, path, body)["categorizedByModel"] == 14, path

    def test_async_answers_202_and_the_task_holds_the_result(self, client):
        body = {"userId": "u1", "events": month(overworked=True)}
        response = client.post("/analyze-burnout?async=true", json=body)
        assert response.status_code == 202
        task_id = response.json["taskId"]
        assert response.headers["Location"] == f"/tasks/{task_id}"
        status = wait_for_task(client, task_id)
        assert status["state"] == "SUCCESS"
        assert status["result"] == post(client, "/analyze-burnout", body)

    def test_prefer_header_makes_any_analysis_async(self, client):
        response = client.post("/analyze-balance", json=balance_body(balanced_week()),
                               headers={"Prefer": "respond-async"})
        assert response.status_code == 202
        assert wait_for_task(client, response.json["taskId"])["result"]["status"] == "ok"

    @pytest.mark.parametrize("path, body", [
        ("/analyze-balance", balance_body([*balanced_week(), ev("Team standup meeting", at(1, 8), 30)])),
        ("/optimize-schedule", {"userId": "u", "startDate": "2024-05-06", "endDate": "2024-05-10",
                                "events": [ev(f"Meeting {i}", at(0, 9 + i), 45, "WORK", attendees=["a"])
                                           for i in range(6)] + [ev("Sprint planning", at(1, 9), 60)]}),
        ("/detect-patterns", {"userId": "u", "events": [*eight_weeks_with_a_3am_meeting(),
                                                        ev("요가 수업", at(3, 7), 60)]}),
        ("/analyze-burnout", {"userId": "u", "events": [*month(overworked=True), ev("Pay rent", at(2, 20), 15)],
                              "includeRecommendations": True}),
    ])
    def test_the_same_input_gives_the_same_output(self, client, path, body):
        first, second = post(client, path, body), post(client, path, body)
        assert first == second
        assert first["categorizedByModel"] == 1


def test_analyses_with_every_category_given_need_no_model(base_settings, tmp_path):
    """A worker whose registry has no production model still answers when no event lacks a category."""
    # Database 7 of the test server and an empty MLflow store: nothing shared with the production-model tests.
    settings = base_settings.replace(redis_url=base_settings.redis_url.rsplit("/", 1)[0] + "/7", data_dir=tmp_path,
                                     mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    celery = create_celery(settings)
    worker = WorkerProcess("workers.inference", settings, tmp_path / "worker.log", "--concurrency", "1")
    try:
        worker.wait_ready(celery)
        client = create_app(settings, celery=celery).test_client()
        result = post(client, "/analyze-balance", balance_body(balanced_week()))
        assert result["status"] == "ok" and result["categorizedByModel"] == 0 and "modelVersion" not in result
        missing = client.post("/analyze-balance", json=balance_body([ev("Team standup meeting", at(0, 9), 30)]))
        assert missing.status_code == 503
        assert missing.json["error"]["code"] == "model_not_ready"
    finally:
        worker.stop()
        celery.close()
