"""A fresh system serves something: when the registry has no production classifier, train and promote one."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.models.event_classifier import ForestParams, RecipeParams, train_event_classifier
from geulpi_tasks.models.explain import IMPORTANCE_ARTIFACT
from geulpi_tasks.models.runtime import save_bundle
from geulpi_tasks.monitoring.reference import REFERENCE_ARTIFACT, build_reference
from geulpi_tasks.registry.store import VersionRef, find_version_by_alias, promote_to_production, register_bundle
from geulpi_tasks.training.data import REALISTIC_WEIGHT, TrainingRows
from geulpi_tasks.training.measure import measure_importance, measure_realistic

log = logging.getLogger(__name__)

FIRST_SEMVER = "1.0.0"


def ensure_production_model(*, tracking_uri: str, artifact_root: Path, model_name: str, n_samples: int,
                            n_trees: int, seed: int) -> tuple[VersionRef, bool]:
    """The production version, training and promoting a first one if there is none. Second item: trained now."""
    existing = find_version_by_alias(tracking_uri, model_name)
    if existing is not None:
        return existing, False
    log.info("no production '%s' in %s: training a first model on %d generated events", model_name, tracking_uri,
             n_samples)
    train, val, test = split_events(generate_events(n_samples, seed=seed), seed=seed)
    # The same recipe as a training job: hand-labelled dev rows join the fit (weighted), their holdout calibrates.
    dev_fit, dev_holdout = split_dev(load_rows(SetRole.DEV))
    model = train_event_classifier(train, val, test, seed=seed, forest=ForestParams(n_estimators=n_trees),
                                   recipe=RecipeParams(extra_weight=REALISTIC_WEIGHT), extra_rows=dev_fit,
                                   calibration_rows=dev_holdout)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_bundle(model, Path(tmp) / "bundle", extra_meta={"semver": FIRST_SEMVER})
        scalar_metrics = {k: v for k, v in model.metrics.items() if isinstance(v, (int, float))}
        rows = TrainingRows(train, val, test, realistic_holdout=dev_holdout)
        realistic = measure_realistic(bundle, rows, label="category", tracking_uri=tracking_uri,
                                      model_name=model_name, download_dir=Path(tmp) / "production")
        scalar_metrics.update({k: v for k, v in realistic.items() if isinstance(v, (int, float))})
        model.metrics["realistic"] = realistic["realistic"]
        importance = measure_importance(bundle, dev_holdout)
        ref = register_bundle(bundle, tracking_uri=tracking_uri, artifact_root=artifact_root, name=model_name,
                              description="First model, trained automatically on generated bilingual events.",
                              semver=FIRST_SEMVER, params=model.params, metrics=scalar_metrics,
                              run_tags={"geulpi.trigger": "bootstrap"},
                              json_artifacts={"data_fingerprint.json": model.data_fingerprint,
                                              "metrics.json": model.metrics,
                                              # Monitoring's drift baseline: this version's training features.
                                              REFERENCE_ARTIFACT: build_reference(train),
                                              **({IMPORTANCE_ARTIFACT: importance} if importance else {})})
    promote_to_production(tracking_uri, model_name, ref.version)
    log.info("registered and promoted '%s' version %s (test accuracy %.3f)", model_name, ref.version,
             model.metrics["accuracy"])
    return ref, True
