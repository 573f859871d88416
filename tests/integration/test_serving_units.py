"""ModelProvider and RoutedClassifier on their own: a real MLflow store in a temp folder and a real Redis, no worker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from geulpi_tasks.errors import ModelNotReady
from geulpi_tasks.experiments.lifecycle import create_experiment
from geulpi_tasks.experiments.serving import ExperimentRouter
from geulpi_tasks.experiments.store import get_experiment, read_counts
from geulpi_tasks.inference.model_provider import ModelProvider
from geulpi_tasks.inference.routed import RoutedClassifier
from geulpi_tasks.registry.store import download_bundle, promote_to_production, register_bundle
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.training.bootstrap import ensure_production_model

MODEL = "event_classifier"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A private registry with versions 1 (production) and 2 (the same bundle registered again)."""
    root = tmp_path_factory.mktemp("serving-units")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    ref, _ = ensure_production_model(tracking_uri=uri, artifact_root=root / "artifacts", model_name=MODEL,
                                     n_samples=900, n_trees=8, seed=11)
    bundle = download_bundle(uri, MODEL, ref.version, root / "download")
    second = register_bundle(bundle, tracking_uri=uri, artifact_root=root / "artifacts", name=MODEL,
                             description="same bundle, second version", semver="1.1.0", params={}, metrics={})
    return {"uri": uri, "root": root, "v1": ref.version, "v2": second.version}


def _provider(registry: dict, cache: str) -> ModelProvider:
    return ModelProvider(tracking_uri=registry["uri"], model_name=MODEL, cache_dir=registry["root"] / cache,
                         poll_interval_s=60)


def _event(i: int, user: str | None = None) -> object:
    return parse_event({"title": f"team standup {i}", "startTime": "2025-03-04T09:30:00",
                        "endTime": "2025-03-04T09:45:00", **({"userId": user} if user else {})})


def test_provider_without_a_production_version_is_not_ready(tmp_path: Path):
    provider = ModelProvider(tracking_uri=f"sqlite:///{tmp_path / 'empty.db'}", model_name=MODEL,
                             cache_dir=tmp_path / "cache", poll_interval_s=60)
    with pytest.raises(ModelNotReady):
        provider.current()


def test_provider_serves_production_and_swaps_when_the_alias_moves(registry: dict):
    provider = _provider(registry, "cache-swap")
    assert provider.current().version == registry["v1"]
    assert provider.refresh() is False  # nothing moved
    promote_to_production(registry["uri"], MODEL, registry["v2"])
    try:
        assert provider.refresh() is True
        assert provider.current().version == registry["v2"]
    finally:
        promote_to_production(registry["uri"], MODEL, registry["v1"])
    assert provider.refresh() is True and provider.current().version == registry["v1"]


def test_provider_keeps_other_versions_loaded_beside_production(registry: dict):
    provider = _provider(registry, "cache-versions")
    other = provider.get_version(registry["v2"])
    assert other.version == registry["v2"]
    assert provider.get_version(registry["v2"]) is other  # loaded once, then kept
    production = provider.current()
    assert provider.get_version(registry["v1"]) is production  # production itself is never loaded twice


def test_routed_classifier_without_a_router_serves_production_with_no_variant(registry: dict):
    routed = RoutedClassifier(_provider(registry, "cache-plain"), None, review_threshold=0.7)
    one = routed.classify_one(_event(1))  # type: ignore[arg-type]
    assert one["modelVersion"] == registry["v1"] and "variant" not in one and one["latencyMs"] >= 0
    batch, production = routed.classify_batch([_event(i) for i in range(3)])  # type: ignore[misc]
    assert production.version == registry["v1"] and len(batch) == 3 and all("variant" not in r for r in batch)


def test_routed_classifier_serves_each_caller_its_sticky_variant_and_counts_exposures(registry: dict,
                                                                                     redis_server: str):
    client = redis.Redis.from_url(redis_server)
    prefix = f"routed-{uuid.uuid4().hex[:6]}"
    experiment = create_experiment(client, prefix, registry["uri"], {
        "name": "routing", "model_type": MODEL, "duration_hours": 1,
        "variants": [{"name": "control", "version": registry["v1"], "traffic_percentage": 50},
                     {"name": "candidate", "version": registry["v2"], "traffic_percentage": 50}]})
    router = ExperimentRouter(client, prefix=prefix, model_name=MODEL, cache_ttl_s=0.0, latency_samples=100)
    routed = RoutedClassifier(_provider(registry, "cache-routed"), router, review_threshold=0.7)
    users = [f"user-{i}" for i in range(24)]
    first = {u: routed.classify_one(_event(0, u)) for u in users}  # type: ignore[arg-type]
    for u, answer in first.items():
        assert answer["experimentId"] == experiment.experiment_id
        expected = {"control": registry["v1"], "candidate": registry["v2"]}[answer["variant"]]
        assert answer["modelVersion"] == expected
        assert routed.classify_one(_event(1, u))["variant"] == answer["variant"]  # type: ignore[arg-type]
    assert {a["variant"] for a in first.values()} == {"control", "candidate"}
    # A batch of several callers keeps input order and serves each event with its caller's variant.
    events = [_event(i, users[i % len(users)]) for i in range(10)]
    batch, _ = routed.classify_batch(events)  # type: ignore[arg-type]
    assert [r["variant"] for r in batch] == [first[users[i % len(users)]]["variant"] for i in range(10)]
    counts = read_counts(client, prefix, get_experiment(client, prefix, experiment.experiment_id))
    assert sum(c["exposures"] for c in counts.values()) == 2 * len(users) + 10
    per_variant = {name: sum(1 for a in first.values() if a["variant"] == name) for name in counts}
    assert {name: c["successes"] for name, c in counts.items()} == {
        name: 2 * n + sum(1 for i in range(10) if first[users[i % len(users)]]["variant"] == name)
        for name, n in per_variant.items()}
