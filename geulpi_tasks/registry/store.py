"""The MLflow model registry as Geulpi uses it: versions, aliases for stages, and local bundle copies.

Stages are kept with registry aliases and a ``stage`` tag (MLflow's stage API is deprecated): the ``production``
alias is what inference workers serve. Every function takes the tracking URI it should use; nothing is global
except the fluent-API URI set while a run is logged.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from geulpi_tasks.errors import NotFound, Unavailable
from geulpi_tasks.models.pyfunc import (
    BUNDLE_ARTIFACT,
    INPUT_EXAMPLE,
    EventClassifierPyfunc,
    model_signature,
    pinned_requirements,
)
from geulpi_tasks.settings import PROJECT_ROOT

PRODUCTION_ALIAS = "production"
EXPERIMENT_NAME = "geulpi-event-classifier"


class Stage(str, Enum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


@dataclass(frozen=True)
class VersionRef:
    name: str
    version: str
    run_id: str | None
    semver: str | None


def client_for(tracking_uri: str) -> Any:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _ensure_experiment(client: Any, tracking_uri: str, artifact_root: Path) -> str:
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return str(experiment.experiment_id)
    if tracking_uri.startswith(("http://", "https://")):
        return str(client.create_experiment(EXPERIMENT_NAME))  # the tracking server decides where artifacts go
    # A local store: keep artifacts beside it rather than in ./mlruns of whatever directory we were started from.
    artifact_root.mkdir(parents=True, exist_ok=True)
    return str(client.create_experiment(EXPERIMENT_NAME, artifact_location=artifact_root.as_uri()))


def register_bundle(bundle_dir: Path, *, tracking_uri: str, artifact_root: Path, name: str, description: str,
                    semver: str, params: dict[str, Any], metrics: dict[str, float],
                    run_tags: dict[str, str] | None = None, json_artifacts: dict[str, Any] | None = None
                    ) -> VersionRef:
    """Log a bundle as an MLflow pyfunc model in a new run and register it as a new version of ``name``.

    The version carries a signature, an input example (one event), pinned requirements and the geulpi_tasks code the
    wrapper imports, so ``mlflow.pyfunc.load_model`` and ``mlflow models serve`` work on it anywhere."""

    client = client_for(tracking_uri)
    experiment_id = _ensure_experiment(client, tracking_uri, artifact_root)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id, tags=run_tags or {}) as run:
        mlflow.log_params(_flatten(params))
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        for file_name, payload in (json_artifacts or {}).items():
            mlflow.log_dict(payload, file_name)
        with tempfile.TemporaryDirectory() as code_dir:
            code = Path(code_dir) / "geulpi_tasks"
            shutil.copytree(PROJECT_ROOT / "geulpi_tasks", code,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.jsonl"))
            info = mlflow.pyfunc.log_model(
                name="model", python_model=EventClassifierPyfunc(), artifacts={BUNDLE_ARTIFACT: str(bundle_dir)},
                pip_requirements=pinned_requirements(), signature=model_signature(bundle_dir),
                input_example=pd.DataFrame([INPUT_EXAMPLE]), code_paths=[str(code)], registered_model_name=name,
            )
    version = str(info.registered_model_version)
    client.update_model_version(name, version, description=description)
    client.set_model_version_tag(name, version, "semver", semver)
    client.set_model_version_tag(name, version, "stage", Stage.NONE.value)
    return VersionRef(name=name, version=version, run_id=run.info.run_id, semver=semver)


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)[:500]
    return flat


def find_version_by_alias(tracking_uri: str, name: str, alias: str = PRODUCTION_ALIAS) -> VersionRef | None:
    """The version behind ``alias``, or None when the model or alias does not exist yet."""

    client = client_for(tracking_uri)
    try:
        mv = client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        if _is_missing(err):
            return None
        raise Unavailable(f"The model registry at {tracking_uri} did not answer: {err}") from err
    return VersionRef(name=name, version=str(mv.version), run_id=mv.run_id, semver=(mv.tags or {}).get("semver"))


def _is_missing(err: Exception) -> bool:
    code = getattr(err, "error_code", "")
    return code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


def promote_to_production(tracking_uri: str, name: str, version: str) -> str | None:
    """Point the production alias at ``version``; the version it replaces is tagged Archived. Returns that one."""
    client = client_for(tracking_uri)
    previous = find_version_by_alias(tracking_uri, name)
    client.set_registered_model_alias(name, PRODUCTION_ALIAS, str(version))
    client.set_model_version_tag(name, str(version), "stage", Stage.PRODUCTION.value)
    if previous is not None and previous.version != str(version):
        client.set_model_version_tag(name, previous.version, "stage", Stage.ARCHIVED.value)
        return previous.version
    return None


def download_bundle(tracking_uri: str, name: str, version: str, cache_dir: Path) -> Path:
    """A local copy of a version's bundle, cached per version (versions are immutable)."""

    target = cache_dir / name / str(version)
    if (target / "meta.json").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        try:
            # "models:/" URIs resolve against the process-wide registry URI, not the tracking_uri argument: point it
            # at this store first, or a download would go to whichever store this process registered into last.
            mlflow.set_registry_uri(tracking_uri)
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=tmp,
                                                             tracking_uri=tracking_uri))
        except MlflowException as err:
            if _is_missing(err):
                raise NotFound(f"Model '{name}' has no version {version}.") from err
            raise Unavailable(f"Could not download '{name}' version {version}: {err}") from err
        metas = sorted(local.rglob("meta.json"))
        if not metas:
            raise NotFound(f"Model '{name}' version {version} holds no Geulpi bundle.")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tmp) / "ready"
        shutil.copytree(metas[0].parent, staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "meta.json").exists():  # another process finished first; theirs is identical
                raise
    return target


def check_registry(tracking_uri: str, name: str) -> dict[str, Any]:
    """Raises if the registry does not answer; says which version is in production (None if none yet)."""
    ref = find_version_by_alias(tracking_uri, name)
    return {"productionVersion": ref.version if ref else None}


def run_metrics(tracking_uri: str, run_id: str) -> dict[str, float]:
    """The metrics a version's run logged (empty when the run is gone). Unavailable when the store does not answer."""
    try:
        return dict(client_for(tracking_uri).get_run(run_id).data.metrics)
    except MlflowException as err:
        if _is_missing(err):
            return {}
        raise Unavailable(f"The model registry did not answer for run {run_id}: {err}",
                          details={"dependency": "mlflow"}) from err


def run_json_artifact(tracking_uri: str, run_id: str, file_name: str) -> Any:
    """A JSON artifact a version's run logged (None when the run or the file is missing). Unavailable when the
    store does not answer."""
    client = client_for(tracking_uri)
    try:
        client.get_run(run_id)
    except MlflowException as err:
        if _is_missing(err):
            return None
        raise Unavailable(f"The model registry did not answer for run {run_id}: {err}",
                          details={"dependency": "mlflow"}) from err
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=file_name, dst_path=tmp,
                                                       tracking_uri=tracking_uri)
        except (MlflowException, OSError):
            return None  # a version logged before the file existed
        return json.loads(Path(path).read_text())
