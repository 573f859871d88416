"""Erasing one user's data on request, from every store the README's data inventory lists.

What is removed: the user's feedback rows and cached classified events (feedback), the results of tasks whose
arguments named the user (Celery results, with the API's marker of them), the per-event records of a shadow
deployment (both versions' answers to the user's events), and the indexes that link the user to tasks and to model
versions. What stays, anonymous: A/B counters (assignment is a hash, never stored, so a user's exposures are only
in per-variant counts and the experiment statistics stay valid), shadow counters (per class and per version, no
user id), the prediction log (feature summaries, no text, no user id), online-accuracy outcomes. Model versions
trained on the user's feedback cannot be untrained: they are listed in the answer, and a tombstone makes every
later training skip the user's feedback received before the erasure (a restored backup cannot bring it back into
training).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, InvalidInput, Unavailable
from geulpi_tasks.feedback import delete_user_feedback, record_user
from geulpi_tasks.privacy.keys import erased_key, user_digest, user_tasks_key, user_versions_key
from geulpi_tasks.shadow.store import delete_user_shadow_records

MAX_USER_ID = 200


def celery_result_key(task_id: str) -> str:
    """Where Celery's Redis result backend keeps a task's result."""
    return f"celery-task-meta-{task_id}"


def submitted_key(key_prefix: str, task_id: str) -> str:
    """The API's marker of a task it accepted (``/tasks/<id>`` answers 404 for others)."""
    return f"{key_prefix}:tasks:submitted:{task_id}"


def check_user_id(user_id: str) -> str:
    """The user id as the API and the stores use it; InvalidInput naming ``userId`` when empty or too long."""
    if not user_id or not user_id.strip() or len(user_id) > MAX_USER_ID:
        raise InvalidInput(f"'userId' must have 1 to {MAX_USER_ID} characters.", field="userId")
    return user_id


def remember_user_tasks(client: Any, key_prefix: str, users: Iterable[str], task_id: str, *, ttl_s: int) -> None:
    """Index ``task_id`` under each user its arguments named, for as long as its result may be kept."""
    pipe = client.pipeline(transaction=False)
    count = 0
    for user in set(users):
        key = user_tasks_key(key_prefix, user)
        pipe.sadd(key, task_id)
        pipe.expire(key, ttl_s)
        count += 1
    if count:
        pipe.execute()


def record_trained_on(client: Any, key_prefix: str, users: Iterable[str], model_name: str, version: str) -> None:
    """Remember that ``model_name`` ``version`` learned from these users' feedback (listed when one is erased)."""
    pipe = client.pipeline(transaction=False)
    count = 0
    for user in set(users):
        pipe.sadd(user_versions_key(key_prefix, user), f"{model_name}/{version}")
        count += 1
    if count:
        pipe.execute()


def erased_before(client: Any, key_prefix: str) -> Callable[[Mapping[str, Any]], bool]:
    """A filter for feedback records: False for a record of an erased user received before the erasure."""
    raw = client.hgetall(erased_key(key_prefix))
    tombstones = {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}

    def keep(record: Mapping[str, Any]) -> bool:
        user = record_user(record)
        if user is None:
            return True
        erased_at = tombstones.get(user_digest(user))
        return erased_at is None or float(record.get("receivedAt") or 0.0) > erased_at

    return keep


def erase_user(client: Any, key_prefix: str, user_id: str, *,
               result_key: Callable[[str], str] = celery_result_key) -> dict[str, Any]:
    """Remove ``user_id``'s data from every store; returns what was removed per store and the versions trained on
    the user's feedback. Raises Unavailable when Redis does not answer (nothing is half-reported: run it again)."""
    user_id = check_user_id(user_id)
    feedback = delete_user_feedback(client, key_prefix, user_id)
    try:
        task_ids = sorted(t.decode() if isinstance(t, bytes) else str(t)
                          for t in client.smembers(user_tasks_key(key_prefix, user_id)))
        shadow_records = delete_user_shadow_records(client, key_prefix, user_id)
        results = markers = 0
        for task_id in task_ids:
            results += int(client.delete(result_key(task_id)))
            markers += int(client.delete(submitted_key(key_prefix, task_id)))
        versions = sorted(v.decode() if isinstance(v, bytes) else str(v)
                          for v in client.smembers(user_versions_key(key_prefix, user_id)))
        client.delete(user_tasks_key(key_prefix, user_id), user_versions_key(key_prefix, user_id))
        client.hset(erased_key(key_prefix), user_digest(user_id), repr(time.time()))
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; the erasure did not finish. Run it again.",
                          details={"dependency": "redis"}) from err
    return {
        "userId": user_id,
        "removed": {
            "feedbackRows": feedback["rows"],
            "feedbackCache": feedback["cachedEvents"],
            "taskResults": results,
            "taskMarkers": markers,
            "shadowRecords": shadow_records,
            "experimentAssignments": 0,  # never stored: the variant is a hash of experiment and user id
            "predictionLog": 0,  # holds no user id and no text
        },
        "keptAnonymous": {
            "experimentCounts": "per-variant exposure, success and feedback counts hold no user id; kept so "
                                "experiment statistics stay valid",
            "onlineAccuracy": "per-version correct/incorrect counts hold no user id",
            "shadowCounts": "a shadow deployment's per-class agreement and accuracy counts hold no user id",
        },
        "modelVersionsTrainedOnUser": [{"model": v.split("/", 1)[0], "version": v.split("/", 1)[1]}
                                       for v in versions],
        "retraining": "later training skips this user's feedback received before now",
    }
