"""Inference tasks: parse JSON arguments, call the domain, return JSON. Nothing else lives here."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, TypeVar

from celery import signals

from geulpi_tasks.errors import GeulpiError, RemoteError, error_to_wire
from geulpi_tasks.experiments.serving import Arm
from geulpi_tasks.inference.classification import classify_events as classify_domain
from geulpi_tasks.schemas import EventInput, parse_event, parse_events
from geulpi_tasks.settings import Settings
from workers import process_state
from workers.celery_app import app, settings_of
from workers.task_names import CLASSIFY_EVENT, CLASSIFY_EVENTS, INFERENCE_PING

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(fn: F) -> F:
    """Turn a GeulpiError into a JSON-carried RemoteError so the API can answer with the same code."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GeulpiError as err:
            raise RemoteError(error_to_wire(err)) from err
    return wrapper  # type: ignore[return-value]


@app.task(name=INFERENCE_PING)
def ping() -> str:
    return "pong"


@app.task(name=CLASSIFY_EVENT, bind=True)
@domain_errors
def classify_event(self: Any, event: dict[str, Any]) -> dict[str, Any]:
    settings = settings_of(app)
    parsed = parse_event(event)
    arm = _experiment_arm(settings, parsed.user_id or parsed.request_id)
    started = time.perf_counter()
    try:
        provider = process_state.model_provider(settings)
        model = provider.current() if arm is None else provider.get_version(arm.version)
        result = classify_domain(model, [parsed], review_threshold=settings.review_threshold)[0]
    except Exception:
        if arm is not None:
            process_state.experiment_router(settings).record(arm, success=False, latency_ms=None)
        raise
    result["latencyMs"] = round((time.perf_counter() - started) * 1000.0, 3)
    # The caller's requestId, else this task's id: either names the event in POST /feedback.
    result["requestId"] = parsed.request_id or self.request.id
    if arm is not None:
        process_state.experiment_router(settings).record(arm, success=True, latency_ms=result["latencyMs"])
        result.update(arm.to_wire())
    return result


def _experiment_arm(settings: Settings, unit_id: str | None) -> Arm | None:
    """The A/B variant serving this caller while an experiment runs for the model (never in limited mode)."""
    if settings.disable_redis:
        return None
    router = process_state.experiment_router(settings)
    arm = router.route(unit_id)
    experiment = router.running()
    if arm is not None and experiment is not None:  # keep every variant loaded, not just this caller's
        provider = process_state.model_provider(settings)
        for variant in experiment.variants:
            provider.get_version(variant.version)
    return arm


def _classify_by_arm(settings: Settings, parsed: list[EventInput], arms: list[Arm | None]
                     ) -> list[dict[str, Any]]:
    """A batch during an experiment: each caller's events go to its variant's version; results keep input order."""
    provider = process_state.model_provider(settings)
    router = process_state.experiment_router(settings)
    groups: dict[Arm | None, list[int]] = {}
    for i, arm in enumerate(arms):
        groups.setdefault(arm, []).append(i)
    results: list[dict[str, Any]] = [{} for _ in parsed]
    for arm, indices in groups.items():
        model = provider.current() if arm is None else provider.get_version(arm.version)
        try:
            answers = classify_domain(model, [parsed[i] for i in indices], review_threshold=settings.review_threshold)
        except Exception:
            if arm is not None:
                router.record_batch(arm, successes=0, failures=len(indices))
            raise
        if arm is not None:
            router.record_batch(arm, successes=len(indices))
        for i, answer in zip(indices, answers):
            results[i] = answer if arm is None else {**answer, **arm.to_wire()}
    return results


@app.task(name=CLASSIFY_EVENTS, bind=True)
@domain_errors
def classify_events(self: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    settings = settings_of(app)
    parsed = parse_events(events, max_count=settings.max_batch_size)
    arms = [_experiment_arm(settings, e.user_id or e.request_id) for e in parsed]
    started = time.perf_counter()
    model = process_state.model_provider(settings).current()
    if any(arm is not None for arm in arms):
        results = _classify_by_arm(settings, parsed, arms)
    else:
        results = classify_domain(model, parsed, review_threshold=settings.review_threshold)
    latency = round((time.perf_counter() - started) * 1000.0, 3)
    for i, (event, result) in enumerate(zip(parsed, results)):
        result["requestId"] = event.request_id or f"{self.request.id}:{i}"
    return {"results": results, "count": len(results), "modelName": model.name, "modelVersion": model.version,
            "latencyMs": latency}


def _load_model_in_this_process(**_: Any) -> None:
    if process_state.role != "inference":
        return
    provider = process_state.model_provider(settings_of(app))
    try:
        provider.refresh()
    except GeulpiError as err:  # no model yet or registry down: serve 503s and keep polling
        log.warning("inference start-up without a model: %s", err.message)
    provider.start_polling()


signals.worker_process_init.connect(_load_model_in_this_process, weak=False)
