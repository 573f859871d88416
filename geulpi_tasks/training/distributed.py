"""One Optuna study shared by several training workers through Optuna's journal storage on Redis.

Contract:
- every worker runs ``run_study_worker`` on the same study name; trials are claimed from the shared journal, so
  workers never repeat each other's trials and the total stops at ``n_trials`` (finished = COMPLETE or PRUNED);
- a worker proves it is alive with a Redis key refreshed every ``heartbeat_s`` and expiring after 3 × that; a
  RUNNING trial whose owner's key expired (its worker died) is marked FAIL and re-enqueued once with the same
  parameters, so no trial is left running forever;
- the coordinating worker (``wait_for_others=True``) returns only when ``n_trials`` trials have finished and none is
  running; helpers return as soon as there is nothing left to claim.
Safe to call again for the same study (a redelivered job continues where the study stands).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import warnings
from typing import Any, Callable

import optuna
from optuna.storages.journal import JournalRedisBackend, JournalStorage
from optuna.trial import TrialState

from geulpi_tasks.errors import Timeout
from geulpi_tasks.optimization.search import WORKER_ATTR
from geulpi_tasks.training.keys import study_key, trial_owner_key

log = logging.getLogger(__name__)

OWNER_ATTR = "geulpi_owner"
RETRY_OF_ATTR = "geulpi_retry_of"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
__all__ = ["WORKER_ATTR", "journal_storage", "run_study_worker", "fail_stale_trials", "count_trials", "Heartbeat"]


def journal_storage(redis_url: str, key_prefix: str) -> optuna.storages.BaseStorage:
    """Optuna's journal storage on Redis: every worker that reaches ``redis_url`` shares the same studies."""
    # The Redis journal backend is marked experimental since Optuna 3.1; we use it knowingly (the issue asks for it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        backend = JournalRedisBackend(redis_url, prefix=study_key(key_prefix))
    return JournalStorage(backend)


class Heartbeat:
    """Refreshes ``<prefix>:training:trial-owner:<owner>`` while a worker runs trials."""

    def __init__(self, redis_client: Any, key_prefix: str, owner: str, interval_s: float):
        self._redis = redis_client
        self._key = trial_owner_key(key_prefix, owner)
        self._interval = interval_s
        self._ttl_ms = max(1000, int(interval_s * 3000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{owner}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._redis.set(self._key, "1", px=self._ttl_ms)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._redis.delete(self._key)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._redis.set(self._key, "1", px=self._ttl_ms)
            except OSError as err:  # a missed beat only risks our trial being retried elsewhere
                log.warning("trial heartbeat failed: %s", err)


def fail_stale_trials(study: optuna.Study, redis_client: Any, key_prefix: str) -> list[int]:
    """Mark FAIL every RUNNING trial whose owner stopped beating, and re-enqueue a trial that was not itself a
    retry with the same parameters. Returns the numbers of the trials failed."""
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get(OWNER_ATTR) or t.system_attrs.get(OWNER_ATTR)
        if owner is None or redis_client.exists(trial_owner_key(key_prefix, owner)):
            continue
        try:
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except RuntimeError:  # finished meanwhile (the owner was slow, not dead)
            continue
        failed.append(t.number)
        log.warning("trial %d of study %s: owner %s stopped beating; marked FAIL", t.number, study.study_name,
                    owner)
        if RETRY_OF_ATTR not in t.user_attrs and t.params:
            study.enqueue_trial(t.params, user_attrs={RETRY_OF_ATTR: t.number}, skip_if_exists=False)
    return failed


def count_trials(study: optuna.Study) -> dict[str, int]:
    counts = {"finished": 0, "running": 0, "waiting": 0, "failed": 0}
    for t in study.get_trials(deepcopy=False):
        if t.state in FINISHED:
            counts["finished"] += 1
        elif t.state == TrialState.RUNNING:
            counts["running"] += 1
        elif t.state == TrialState.WAITING:
            counts["waiting"] += 1
        elif t.state == TrialState.FAIL:
            counts["failed"] += 1
    return counts


def run_study_worker(study: optuna.Study, objective: Callable[[optuna.Trial], Any], *, n_trials: int,
                     redis_client: Any, key_prefix: str, heartbeat_s: float, wait_for_others: bool,
                     progress: Callable[[dict[str, Any]], None] | None = None, max_wait_s: float = 3600.0,
                     owner: str | None = None, worker_name: str | None = None) -> dict[str, Any]:
    """Run trials of ``study`` until it holds ``n_trials`` finished trials (see the module contract).

    ``worker_name`` (the Celery hostname, when known) is stored on each trial as ``WORKER_ATTR``. Returns
    ``{"owner", "worker", "trials_run", "stale_failed", "wall_seconds"}``. Raises ``Timeout`` when the
    coordinating worker waited more than ``max_wait_s`` for other workers' running trials.
    """
    owner = owner or uuid.uuid4().hex
    started = time.perf_counter()
    ran = 0
    stale: list[int] = []

    def owned_objective(trial: optuna.Trial) -> Any:
        trial.set_user_attr(OWNER_ATTR, owner)
        if worker_name:
            trial.set_user_attr(WORKER_ATTR, worker_name)
        return objective(trial)

    def report() -> None:
        if progress is None:
            return
        counts = count_trials(study)
        best = None
        try:
            best = study.best_value if len(study.directions) == 1 else None
        except ValueError:
            pass
        progress({"phase": "search", "trial": counts["finished"], "n_trials": n_trials, "best_value": best,
                  "running": counts["running"]})

    waited_since: float | None = None
    with Heartbeat(redis_client, key_prefix, owner, heartbeat_s):
        while True:
            stale += fail_stale_trials(study, redis_client, key_prefix)
            counts = count_trials(study)
            if counts["finished"] >= n_trials and counts["running"] == 0:
                break
            if counts["waiting"] or counts["finished"] + counts["running"] < n_trials:
                waited_since = None
                study.optimize(owned_objective, n_trials=1, catch=())
                ran += 1
                report()
                continue
            if not wait_for_others:
                break
            waited_since = waited_since or time.monotonic()
            if time.monotonic() - waited_since > max_wait_s:
                raise Timeout(f"Trials of study '{study.study_name}' were still running after {max_wait_s:g} s; "
                              "check the training workers.")
            time.sleep(min(0.5, heartbeat_s / 2))
    return {"owner": owner, "worker": worker_name, "trials_run": ran, "stale_failed": stale,
            "wall_seconds": round(time.perf_counter() - started, 3)}
