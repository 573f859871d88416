"""Optuna search: search spaces, fold-by-fold pruning, the multi-objective Pareto choice, the training request, and
the distributed study on a real Redis (shared journal, stale trials failed and retried)."""

from __future__ import annotations

import threading
import uuid

import numpy as np
import optuna
import pytest
import redis
from sklearn.datasets import make_classification

from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.optimization.search import (
    RANDOM_FOREST,
    XGBOOST,
    Stage2Data,
    create_study,
    make_objective,
    params_from_trial_params,
    summarize_study,
)
from geulpi_tasks.training.distributed import (
    OWNER_ATTR,
    RETRY_OF_ATTR,
    count_trials,
    journal_storage,
    run_study_worker,
)
from geulpi_tasks.training.request import parse_training_request

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def data() -> Stage2Data:
    x, y = make_classification(n_samples=600, n_features=10, n_informative=6, n_classes=3, random_state=0)
    return Stage2Data(x_train=x[:400], y_train=y[:400], x_val=x[400:500], y_val=y[400:500], x_test=x[500:],
                      y_test=y[500:], n_classes=3)


def test_stage2_data_round_trips_through_bytes(data):
    back = Stage2Data.from_bytes(data.to_bytes())
    assert back.n_classes == 3 and np.array_equal(back.x_train, data.x_train) and np.array_equal(back.y_test,
                                                                                                  data.y_test)


def test_single_objective_reports_each_fold_and_searches_both_families(data):
    study = create_study("t", None, multi_objective=False, seed=1, pruner="median")
    study.optimize(make_objective(data, families=[RANDOM_FOREST, XGBOOST], multi_objective=False, seed=1),
                   n_trials=6)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert complete
    for t in complete:
        assert sorted(t.intermediate_values) == [0, 1, 2]  # one report per CV fold: what the pruner sees
        assert 0.0 < t.value <= 1.0
    for t in study.trials:
        family, params = params_from_trial_params(t.params)
        if family == RANDOM_FOREST:
            assert 20 <= params["n_estimators"] <= 200 and params["max_features"] in ("sqrt", "log2", 0.5)
        else:
            assert 0.02 <= params["learning_rate"] <= 0.4 and 0.5 <= params["subsample"] <= 1.0
    summary = summarize_study(study, multi_objective=False)
    assert summary["best_value"] == max(t.value for t in complete)


def test_median_pruner_stops_a_trial_below_the_median_after_a_fold():
    study = create_study("p", None, multi_objective=False, seed=0, pruner="median")

    def objective(trial: optuna.Trial) -> float:
        quality = trial.suggest_float("q", 0, 1)
        for step in range(3):
            trial.report(quality, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return quality

    for q in (0.9, 0.8, 0.85):
        study.enqueue_trial({"q": q})
    study.enqueue_trial({"q": 0.1})
    study.optimize(objective, n_trials=4)
    assert study.trials[-1].state == optuna.trial.TrialState.PRUNED
    assert sorted(study.trials[-1].intermediate_values) == [0]


def test_multi_objective_reports_pareto_front_and_explains_choice(data):
    study = create_study("mo", None, multi_objective=True, seed=3, pruner="median")
    study.optimize(make_objective(data, families=[RANDOM_FOREST], multi_objective=True, seed=3), n_trials=4)
    summary = summarize_study(study, multi_objective=True)
    front = summary["pareto_front"]
    assert front and summary["best_trial"] in {p["number"] for p in front}
    for p in front:
        assert 0 < p["accuracy"] <= 1 and p["latency_us"] > 0 and p["size_bytes"] > 0
    assert f"Trial {summary['best_trial']}" in summary["choice_explanation"]
    top = max(p["accuracy"] for p in front)
    assert summary["best_value"] >= top - 0.005


@pytest.mark.parametrize("body, field", [
    ({"model_type": "nope"}, "model_type"),
    ({"model_type": "event_classifier", "n_optimization_trials": 0}, "n_optimization_trials"),
    ({"model_type": "event_classifier", "n_optimization_trials": 501}, "n_optimization_trials"),
    ({"model_type": "event_classifier", "time_budget_minutes": 0}, "time_budget_minutes"),
    ({"model_type": "event_classifier", "parallelism": 0}, "parallelism"),
    ({"model_type": "event_classifier", "families": ["svm"]}, "families"),
    ({"model_type": "event_classifier", "optimize": "yes"}, "optimize"),
    ({"model_type": "event_classifier", "training_data": [{"title": "x"}]}, "training_data"),
])
def test_training_request_rejects_bad_fields_by_name(body, field):
    with pytest.raises(InvalidInput) as err:
        parse_training_request(body)
    assert err.value.field == field


def test_training_request_rejects_more_workers_than_trials():
    with pytest.raises(InvalidValue) as err:
        parse_training_request({"model_type": "priority_classifier", "n_optimization_trials": 2, "parallelism": 3})
    assert err.value.field == "parallelism"


def _quick_objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -1, 1) ** 2


def test_two_workers_share_one_study_on_redis_without_repeating_trials(redis_server):
    prefix = f"t-{uuid.uuid4().hex[:6]}"
    client = redis.Redis.from_url(redis_server)
    name = "shared"
    studies = [optuna.create_study(study_name=name, storage=journal_storage(redis_server, prefix),
                                   load_if_exists=True) for _ in range(2)]
    results: list[dict] = []

    def work(study: optuna.Study, wait: bool) -> None:
        results.append(run_study_worker(study, _quick_objective, n_trials=12, redis_client=client,
                                        key_prefix=prefix, heartbeat_s=0.5, wait_for_others=wait))

    threads = [threading.Thread(target=work, args=(s, i == 0)) for i, s in enumerate(studies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    trials = studies[0].get_trials()
    finished = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 12 <= len(finished) <= 13  # two workers may both claim the last slot at the same instant
    assert len({t.number for t in trials}) == len(trials)
    assert sum(r["trials_run"] for r in results) == len(trials)
    assert len({t.user_attrs[OWNER_ATTR] for t in finished}) >= 1


def test_trial_of_a_dead_worker_is_failed_and_retried(redis_server):
    prefix = f"t-{uuid.uuid4().hex[:6]}"
    client = redis.Redis.from_url(redis_server)
    study = optuna.create_study(study_name="stale", storage=journal_storage(redis_server, prefix))
    orphan = study.ask({"x": optuna.distributions.FloatDistribution(-1, 1)})
    orphan.set_user_attr(OWNER_ATTR, "worker-that-died")  # no heartbeat key: its owner is gone
    run = run_study_worker(study, _quick_objective, n_trials=3, redis_client=client, key_prefix=prefix,
                           heartbeat_s=0.5, wait_for_others=True)
    assert run["stale_failed"] == [orphan.number]
    trials = study.get_trials()
    assert trials[orphan.number].state == optuna.trial.TrialState.FAIL
    retry = [t for t in trials if t.user_attrs.get(RETRY_OF_ATTR) == orphan.number]
    assert len(retry) == 1 and retry[0].state == optuna.trial.TrialState.COMPLETE
    assert retry[0].params["x"] == orphan.params["x"]
    counts = count_trials(study)
    assert counts == {"finished": 3, "running": 0, "waiting": 0, "failed": 1}


def test_nightly_retraining_is_scheduled_at_the_configured_utc_time():
    import beat_schedule
    from geulpi_tasks.settings import Settings
    from workers.task_names import NIGHTLY_RETRAIN

    schedule = beat_schedule.build_schedule(Settings(retrain_at="03:30"))["nightly-retrain"]
    assert schedule["task"] == NIGHTLY_RETRAIN
    assert schedule["schedule"].hour == {3} and schedule["schedule"].minute == {30}
    schedule = beat_schedule.nightly_crontab("02:00")
    assert schedule.hour == {2} and schedule.minute == {0}
    assert beat_schedule.nightly_crontab("23:45").hour == {23}
    for bad in ("2am", "25:00", "02:60"):
        with pytest.raises(ValueError, match="GEULPI_RETRAIN_AT"):
            beat_schedule.nightly_crontab(bad)
