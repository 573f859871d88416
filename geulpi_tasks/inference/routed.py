"""Classification with A/B routing: while an experiment runs, each caller is served by its sticky variant's version.

Kept out of the Celery task so the routing rules (every variant stays loaded, failures count against the variant
that served them, batches keep input order) can be tested without a worker.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence

from geulpi_tasks.errors import GeulpiError
from geulpi_tasks.experiments.serving import Arm, ExperimentRouter
from geulpi_tasks.inference.classification import classify_events
from geulpi_tasks.inference.model_provider import ModelProvider
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.schemas import EventInput

log = logging.getLogger(__name__)


class RoutedClassifier:
    """Production model, or the experiment's variant for this caller; ``router`` is None in limited mode."""

    def __init__(self, provider: ModelProvider, router: ExperimentRouter | None, *, review_threshold: float):
        self.provider = provider
        self.router = router
        self.review_threshold = review_threshold

    def arm_for(self, event: EventInput) -> Arm | None:
        if self.router is None:
            return None
        arm = self.router.route(event.user_id or event.request_id)
        experiment = self.router.running()
        if arm is not None and experiment is not None:  # keep every variant loaded, not just this caller's
            for variant in experiment.variants:
                self.provider.get_version(variant.version)
        return arm

    def _model(self, arm: Arm | None) -> ServedClassifier:
        return self.provider.current() if arm is None else self.provider.get_version(arm.version)

    def classify_one(self, event: EventInput, *, explain: bool = False) -> dict[str, Any]:
        """One event; ``latencyMs`` is the model's time (with the explanation when asked), and the variant is
        recorded with it."""
        arm = self.arm_for(event)
        started = time.perf_counter()
        try:
            result = classify_events(self._model(arm), [event], review_threshold=self.review_threshold,
                                     explain=explain)[0]
        except Exception:
            if arm is not None and self.router is not None:
                self.router.record(arm, success=False, latency_ms=None)
            raise
        result["latencyMs"] = round((time.perf_counter() - started) * 1000.0, 3)
        if arm is not None and self.router is not None:
            self.router.record(arm, success=True, latency_ms=result["latencyMs"])
            result.update(arm.to_wire())
        return result

    def classify_batch(self, events: Sequence[EventInput], *, explain: bool = False
                       ) -> tuple[list[dict[str, Any]], ServedClassifier]:
        """Results in input order, each caller's events served by its variant (each explained by the version that
        answered it, when asked); also the production model."""
        arms = [self.arm_for(e) for e in events]
        production = self.provider.current()
        if all(arm is None for arm in arms):
            return (classify_events(production, events, review_threshold=self.review_threshold, explain=explain),
                    production)
        groups: dict[Arm | None, list[int]] = {}
        for i, arm in enumerate(arms):
            groups.setdefault(arm, []).append(i)
        results: list[dict[str, Any]] = [{} for _ in events]
        for arm, indices in groups.items():
            try:
                answers = classify_events(self._model(arm), [events[i] for i in indices],
                                          review_threshold=self.review_threshold, explain=explain)
            except Exception:
                if arm is not None and self.router is not None:
                    self.router.record_batch(arm, successes=0, failures=len(indices))
                raise
            if arm is not None and self.router is not None:
                self.router.record_batch(arm, successes=len(indices))
            for i, answer in zip(indices, answers):
                results[i] = answer if arm is None else {**answer, **arm.to_wire()}
        return results, production

    def classify_many(self, events: Sequence[EventInput]) -> list[dict[str, Any] | Exception]:
        """Independent single classifications answered together (the API coalesces concurrent calls): each as
        ``classify_one`` would answer it — its own sticky variant, its exposure counted with a latency — but one
        vectorised pass per variant. ``latencyMs`` is that pass's model time divided by its events. If a pass
        fails, its events are answered one by one, so only the ones that fail alone get their exception (in
        their place in the list); the others are answered."""
        arms = [self.arm_for(e) for e in events]
        groups: dict[Arm | None, list[int]] = {}
        for i, arm in enumerate(arms):
            groups.setdefault(arm, []).append(i)
        out: list[dict[str, Any] | Exception] = [RuntimeError("not classified")] * len(events)
        for arm, indices in groups.items():
            latencies: list[float] = []
            failures = 0
            for part in self._passes(arm, [events[i] for i in indices], indices):
                for i, answer in part:
                    out[i] = answer
                    if isinstance(answer, Exception):
                        failures += 1
                        continue
                    latencies.append(answer["latencyMs"])
                    if arm is not None:
                        answer.update(arm.to_wire())
            if arm is not None and self.router is not None:
                self.router.record_many(arm, latencies_ms=latencies, failures=failures)
        return out

    def _passes(self, arm: Arm | None, events: list[EventInput], indices: list[int]
                ) -> list[list[tuple[int, dict[str, Any] | Exception]]]:
        """One vectorised pass over ``events``, or, when it fails, one pass per event."""
        try:
            return [self._timed_pass(arm, events, indices)]
        except Exception:  # noqa: BLE001 - isolate the event that fails: each alone below
            if len(events) == 1:
                return [self._one_alone(arm, events[0], indices[0])]
        return [self._one_alone(arm, event, i) for event, i in zip(events, indices)]

    def _timed_pass(self, arm: Arm | None, events: list[EventInput], indices: list[int]
                    ) -> list[tuple[int, dict[str, Any] | Exception]]:
        started = time.perf_counter()
        answers = classify_events(self._model(arm), events, review_threshold=self.review_threshold)
        per_event = round((time.perf_counter() - started) * 1000.0 / len(events), 3)
        for answer in answers:
            answer["latencyMs"] = per_event
        return list(zip(indices, answers))

    def _one_alone(self, arm: Arm | None, event: EventInput, index: int
                   ) -> list[tuple[int, dict[str, Any] | Exception]]:
        try:
            return self._timed_pass(arm, [event], [index])
        except Exception as err:  # noqa: BLE001 - this event's own failure, answered to its caller only
            if not isinstance(err, GeulpiError):
                log.exception("classifying one coalesced event failed")
            return [(index, err)]
