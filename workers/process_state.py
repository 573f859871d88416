"""Per-process worker state: which role this process plays and the model it serves.

Created at worker start-up (signals) or lazily on first use; prefork children inherit the role from the parent.
"""

from __future__ import annotations

from geulpi_tasks.inference.model_provider import ModelProvider
from geulpi_tasks.settings import Settings

_provider: ModelProvider | None = None
role: str | None = None


def model_provider(settings: Settings) -> ModelProvider:
    global _provider
    if _provider is None:
        _provider = ModelProvider(tracking_uri=settings.effective_tracking_uri, model_name=settings.model_name,
                                  cache_dir=settings.data_dir / "model_cache",
                                  poll_interval_s=settings.model_poll_interval_s)
    return _provider


def reset() -> None:
    global _provider
    if _provider is not None:
        _provider.stop()
    _provider = None
