"""What every phase of one training job needs to know about where it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

Progress = Callable[[dict[str, Any]], None]
SpawnHelpers = Callable[[dict[str, Any], int], None]


@dataclass(frozen=True)
class JobContext:
    """The job's id and the stores, knobs and callbacks of the worker running it."""

    job_id: str
    tracking_uri: str
    artifact_root: Path
    redis_url: str
    redis: Any
    key_prefix: str
    progress: Progress
    seed: int
    default_samples: int
    heartbeat_s: float
    gates: Any = None
    spawn_helpers: SpawnHelpers | None = None
    worker_name: str | None = None
    # With GEULPI_REQUIRE_APPROVAL: auto-promotion opens a pending request through this instead of promoting.
    request_approval: Any = None

    def phase(self, name: str, *, trial: int | None = None, n_trials: int | None = None,
              best_value: Any = None) -> None:
        """Report the phase the job entered (shown by ``/tasks/<id>`` and Flower)."""
        self.progress({"phase": name, "trial": trial, "n_trials": n_trials, "best_value": best_value})
