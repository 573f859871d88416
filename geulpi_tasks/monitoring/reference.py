"""Reference snapshots: the distribution of a version's training features, the baseline drift compares against.

A snapshot is built from the training rows when a version is registered (``registry/bootstrap.py`` logs it as the
run artifact ``reference_features.json``). Versions registered without one get it lazily at the first scan, rebuilt
from the generator data the version was trained on (``source: "generator"`` says so). Snapshots are cached in Redis
per version; versions are immutable, so the cache never goes stale.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import mlflow.artifacts
from mlflow.exceptions import MlflowException

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.errors import NotFound, Unavailable
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.monitoring.prediction_log import CATEGORICAL_FEATURES, NUMERIC_FEATURES, summarize_event
from geulpi_tasks.registry.store import client_for

REFERENCE_ARTIFACT = "reference_features.json"
SNAPSHOT_SCHEMA = 1
# Numeric values kept per feature: enough for KS / Wasserstein to be exact at our reference sizes.
MAX_VALUES = 5000


def build_reference(rows: Sequence[Mapping[str, Any]], *, source: str = "training", max_values: int = MAX_VALUES,
                    seed: int = 0) -> dict[str, Any]:
    """Snapshot of labelled event rows (generator form: startTime, endTime, title, ..., category)."""
    summaries = [summarize_event(row) for row in rows]
    numeric: dict[str, list[float]] = {}
    for feat in NUMERIC_FEATURES:
        values = [float(s[feat]) for s in summaries]
        if len(values) > max_values:
            values = random.Random(seed).sample(values, max_values)
        numeric[feat] = sorted(values)
    categorical = {feat: dict(Counter(str(s[feat]) for s in summaries)) for feat in CATEGORICAL_FEATURES}
    classes = dict(Counter(str(row["category"]) for row in rows if row.get("category")))
    return {"schema": SNAPSHOT_SCHEMA, "source": source, "n": len(rows), "numeric": numeric,
            "categorical": categorical, "classes": classes}


def load_reference(redis: Any, key_prefix: str, *, tracking_uri: str, model_name: str, version: str,
                   rebuild: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """The version's snapshot: Redis cache, else its run artifact, else ``rebuild()`` (cached either way).

    Raises NotFound when the version has no snapshot and no rebuild is given; Unavailable if the registry fails.
    """
    key = MonitoringKeys(key_prefix).reference(model_name, version)
    cached = redis.get(key)
    if cached:
        return json.loads(cached)  # type: ignore[no-any-return]
    snapshot = _from_registry(tracking_uri, model_name, version)
    if snapshot is None:
        if rebuild is None:
            raise NotFound(f"Model '{model_name}' version {version} has no reference snapshot; register it with "
                           f"'{REFERENCE_ARTIFACT}' or configure a rebuild.")
        snapshot = rebuild()
    redis.set(key, json.dumps(snapshot, separators=(",", ":")))
    return snapshot


def _from_registry(tracking_uri: str, model_name: str, version: str) -> dict[str, Any] | None:
    try:
        run_id = client_for(tracking_uri).get_model_version(model_name, str(version)).run_id
    except MlflowException as err:
        raise Unavailable(f"Could not read '{model_name}' version {version} from the registry: {err}") from err
    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=tmp,
                                                       tracking_uri=tracking_uri)
        except (MlflowException, OSError):
            return None  # an older version logged without a snapshot
        return json.loads(Path(path).read_text())  # type: ignore[no-any-return]


def rebuild_from_generator(n_samples: int, seed: int) -> dict[str, Any]:
    """The training split of ``generate_events(n_samples, seed)``: what bootstrap-style versions were trained on."""

    train, _val, _test = split_events(generate_events(n_samples, seed=seed), seed=seed)
    return build_reference(train, source="generator")
