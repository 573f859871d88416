"""Per-process worker state: which role this process plays and the model it serves.

Created at worker start-up (signals) or lazily on first use; prefork children inherit the role from the parent.
"""

from __future__ import annotations

from enum import StrEnum

import redis

from geulpi_tasks.experiments.serving import ExperimentRouter
from geulpi_tasks.inference.model_provider import ModelProvider
from geulpi_tasks.inference.routed import RoutedClassifier
from geulpi_tasks.inference.shadow import ShadowScorer
from geulpi_tasks.settings import Settings

_provider: ModelProvider | None = None
_router: ExperimentRouter | None = None
_shadow: ShadowScorer | None = None


class ProcessRole(StrEnum):
    """What a worker process is for; its command sets it before Celery starts (children inherit it)."""

    INFERENCE = "inference"
    TRAINING = "training"
    MONITORING = "monitoring"


role: ProcessRole | None = None


def model_provider(settings: Settings) -> ModelProvider:
    global _provider
    if _provider is None:
        _provider = ModelProvider(tracking_uri=settings.effective_tracking_uri, model_name=settings.model_name,
                                  cache_dir=settings.data_dir / "model_cache",
                                  poll_interval_s=settings.model_poll_interval_s)
    return _provider


def experiment_router(settings: Settings) -> ExperimentRouter:
    """Which A/B variant serves a caller, and the per-variant counters (one Redis client per process)."""
    global _router
    if _router is None:
        _router = ExperimentRouter(redis.Redis.from_url(settings.redis_url, socket_timeout=2.0,
                                                        socket_connect_timeout=2.0),
                                   prefix=settings.key_prefix, model_name=settings.model_name,
                                   cache_ttl_s=settings.ab_cache_ttl_s, latency_samples=settings.ab_latency_samples)
    return _router


def routed_classifier(settings: Settings) -> RoutedClassifier:
    """The production model with A/B routing (no routing in limited mode: there is no shared experiment state)."""
    router = None if settings.disable_redis else experiment_router(settings)
    return RoutedClassifier(model_provider(settings), router, review_threshold=settings.review_threshold)


def shadow_scorer(settings: Settings) -> ShadowScorer:
    """Scores the running shadow deployment beside production, off the caller's path (one per process)."""
    global _shadow
    if _shadow is None:
        _shadow = ShadowScorer(model_provider(settings),
                               lambda: redis.Redis.from_url(settings.redis_url, socket_timeout=5.0,
                                                            socket_connect_timeout=2.0),
                               key_prefix=settings.key_prefix, model_name=settings.model_name,
                               cache_ttl_s=settings.shadow_cache_ttl_s, record_ttl_s=settings.feedback_cache_ttl_s,
                               review_threshold=settings.review_threshold)
    return _shadow


def flush_shadow(timeout: float = 10.0) -> bool:
    """Wait for the shadow scores queued in this process (True when none is left or there is no scorer)."""
    return _shadow is None or _shadow.flush(timeout)


def reset() -> None:
    global _provider, _router, _shadow
    _router = None
    _shadow = None
    if _provider is not None:
        _provider.stop()
    _provider = None
