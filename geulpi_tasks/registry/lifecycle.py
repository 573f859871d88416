"""Model version lifecycle: stages, promotion, archiving, rollback, semantic versions and version listing.

Stages follow None → Staging → Production → Archived and live in the registry as aliases (``staging``,
``production``, ``previous_production``) plus a ``stage`` tag on every version; MLflow's deprecated stage API is
never used. The order in which versions held the production alias is kept as a JSON list in the registered
model's ``geulpi.production_history`` tag, so rollback can step back more than once.

Every function takes the tracking URI it should use. Writes are a few SQL statements each; two promotions of the
same model racing each other can interleave (the registry has no transactions across calls), so run promotions
from one place at a time (the API, the CLI or a training job's auto-promotion).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mlflow.exceptions import MlflowException

from geulpi_tasks.errors import Conflict, InvalidInput, NotFound, Unavailable
from geulpi_tasks.registry.store import PRODUCTION_ALIAS, Stage, client_for
from geulpi_tasks.schemas import MAX_MODEL_VERSION

log = logging.getLogger(__name__)

STAGING_ALIAS = "staging"
PREVIOUS_PRODUCTION_ALIAS = "previous_production"
HISTORY_TAG = "geulpi.production_history"
STAGE_TAG = "stage"
SEMVER_TAG = "semver"
FIRST_SEMVER = "1.0.0"
SEMVER_KINDS = ("retrain", "compress")

# Which moves a caller may ask for. Archived → Production happens only through ``rollback_production``.
ALLOWED_TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.NONE: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.STAGING}),
}

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")


# ------------------------------------------------------------------------------------------------ semver (pure)
def parse_semver(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a 'major.minor.patch' string, or None when it is not one."""
    match = _SEMVER.match((text or "").strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def format_semver(parts: tuple[int, int, int]) -> str:
    return f"{parts[0]}.{parts[1]}.{parts[2]}"


def bump_semver(existing: list[str | None], *, schema_changed: bool, kind: str, base: str | None = None) -> str:
    """The next semantic version given the ones already used.

    Major when the feature schema changed, minor for a retrain on new data, patch for a compression or re-export.
    ``base`` (default: the highest existing) is the version the new one derives from; the result is always above
    every existing version sharing its prefix, so two derivations of the same base never collide.
    Raises InvalidInput for an unknown ``kind``.
    """
    if kind not in SEMVER_KINDS:
        raise InvalidInput(f"'kind' must be one of {', '.join(SEMVER_KINDS)}, not {kind!r}.", field="kind")
    used = sorted(p for p in (parse_semver(s) for s in existing) if p is not None)
    if not used:
        return FIRST_SEMVER
    start = parse_semver(base) or used[-1]
    if schema_changed:
        return format_semver((used[-1][0] + 1, 0, 0))
    if kind == "retrain":
        minor = max(p[1] for p in used if p[0] == start[0])
        return format_semver((start[0], minor + 1, 0))
    patch = max((p[2] for p in used if p[:2] == start[:2]), default=start[2])
    return format_semver((start[0], start[1], patch + 1))


# ------------------------------------------------------------------------------------------------ registry reads
@dataclass(frozen=True)
class VersionInfo:
    version: str
    stage: str
    created_at: str
    metrics: dict[str, float]
    run_id: str | None
    description: str
    semver: str | None
    aliases: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "stage": self.stage, "created_at": self.created_at,
                "metrics": self.metrics, "run_id": self.run_id, "description": self.description,
                "semver": self.semver, "aliases": list(self.aliases)}


def check_model_name(name: Any, field: str = "name") -> str:
    """A registered-model name as the API and CLI accept it; raises InvalidInput naming ``field``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(f"'{field}' must be 1 to 200 letters, digits, '_', '-' or '.', starting with a letter "
                           "or digit.", field=field)
    return name


def _mlflow_call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except MlflowException as err:
        if getattr(err, "error_code", "") in {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}:
            raise NotFound(f"{what} does not exist in the model registry.") from err
        raise Unavailable(f"The model registry did not answer while reading {what}: {err}") from err


def get_registered_model(tracking_uri: str, name: str) -> Any:
    """The registered model; NotFound when there is no model called ``name``."""
    return _mlflow_call(f"Model '{name}'", client_for(tracking_uri).get_registered_model, name)


def get_version(tracking_uri: str, name: str, version: Any) -> Any:
    """One model version; InvalidInput for a non-numeric version, NotFound when it does not exist."""
    text = str(version).strip() if version is not None else ""
    if not text.isdigit() or not 1 <= int(text) <= MAX_MODEL_VERSION:
        raise InvalidInput(f"'version' must be an integer from 1 to {MAX_MODEL_VERSION}.", field="version")
    get_registered_model(tracking_uri, name)
    return _mlflow_call(f"Version {text} of model '{name}'", client_for(tracking_uri).get_model_version,
                        name, str(int(text)))


def stage_of(mv: Any) -> Stage:
    raw = (mv.tags or {}).get(STAGE_TAG, Stage.NONE.value)
    try:
        return Stage(raw)
    except ValueError:
        return Stage.NONE


def parse_stage(value: Any, field: str = "target_stage") -> Stage:
    """A stage named by a caller (case-insensitive); InvalidInput naming ``field`` otherwise."""
    names = {s.value.lower(): s for s in Stage}
    if not isinstance(value, str) or value.strip().lower() not in names:
        raise InvalidInput(f"'{field}' must be one of Staging, Production, Archived.", field=field,
                           details={"allowed": [s.value for s in Stage if s is not Stage.NONE]})
    stage = names[value.strip().lower()]
    if stage is Stage.NONE:
        raise InvalidInput(f"'{field}' cannot be None; a version leaves the None stage and never returns to it.",
                           field=field)
    return stage


def _all_versions(tracking_uri: str, name: str) -> list[Any]:
    get_registered_model(tracking_uri, name)
    client = client_for(tracking_uri)
    versions = _mlflow_call(f"Versions of model '{name}'", client.search_model_versions, f"name='{name}'")
    return sorted(versions, key=lambda mv: int(mv.version), reverse=True)


def list_versions(tracking_uri: str, name: str) -> dict[str, Any]:
    """``{model_name, versions: [...]}`` newest first; each version with stage, metrics of its run and semver.

    Raises NotFound for an unknown model, Unavailable when the registry does not answer.
    """

    client = client_for(tracking_uri)
    model = get_registered_model(tracking_uri, name)
    aliases_by_version: dict[str, list[str]] = {}
    for alias, version in (getattr(model, "aliases", None) or {}).items():
        aliases_by_version.setdefault(str(version), []).append(alias)
    out = []
    for mv in _all_versions(tracking_uri, name):
        metrics: dict[str, float] = {}
        if mv.run_id:
            try:
                metrics = dict(client.get_run(mv.run_id).data.metrics)
            except MlflowException as err:  # a deleted run must not hide the version list
                log.warning("no run %s for %s version %s: %s", mv.run_id, name, mv.version, err)
        created = datetime.fromtimestamp(int(mv.creation_timestamp) / 1000.0, tz=timezone.utc)
        out.append(VersionInfo(version=str(mv.version), stage=stage_of(mv).value,
                               created_at=created.isoformat(timespec="seconds"), metrics=metrics,
                               run_id=mv.run_id, description=mv.description or "",
                               semver=(mv.tags or {}).get(SEMVER_TAG),
                               aliases=tuple(sorted(aliases_by_version.get(str(mv.version), [])))).to_dict())
    return {"model_name": name, "versions": out}


def next_semver(tracking_uri: str, name: str, *, schema_changed: bool, kind: str,
                base_version: str | None = None) -> str:
    """The semantic version a new version of ``name`` should carry (see ``bump_semver``).

    ``base_version`` is the registry version the new one derives from (for a compression, the version that was
    compressed); by default the highest semver already used. A model with no versions yet starts at 1.0.0.
    """
    try:
        versions = _all_versions(tracking_uri, name)
    except NotFound:
        return FIRST_SEMVER
    existing = [(mv.tags or {}).get(SEMVER_TAG) for mv in versions]
    base = None
    if base_version is not None:
        base = (get_version(tracking_uri, name, base_version).tags or {}).get(SEMVER_TAG)
    return bump_semver(existing, schema_changed=schema_changed, kind=kind, base=base)


# ------------------------------------------------------------------------------------------------ registry writes
def _history(model: Any) -> list[str]:
    try:
        value = json.loads((model.tags or {}).get(HISTORY_TAG, "[]"))
    except json.JSONDecodeError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _current_production(model: Any) -> str | None:
    version = (getattr(model, "aliases", None) or {}).get(PRODUCTION_ALIAS)
    return str(version) if version is not None else None


def _set_alias(client: Any, name: str, alias: str, version: str | None) -> None:
    if version is None:
        try:
            client.delete_registered_model_alias(name, alias)
        except MlflowException as err:  # deleting an alias that is not there is not a failure
            log.debug("alias %s of %s was already gone: %s", alias, name, err)
        return
    client.set_registered_model_alias(name, alias, version)


def promote_version(tracking_uri: str, name: str, version: Any, target_stage: Any) -> dict[str, Any]:
    """Move ``version`` to ``target_stage``, keeping aliases and stage tags consistent.

    - Staging: the ``staging`` alias points at it (the most recently staged version; others keep their tag).
    - Production: the ``production`` alias points at it; the version it replaces becomes Archived and is
      remembered as ``previous_production`` (for rollback). Only a Staging version can be promoted.
    - Archived: it leaves Staging; the serving production version cannot be archived (promote or roll back).
    Asking for the stage a version already has changes nothing. Raises InvalidInput (bad version or stage),
    NotFound (unknown model or version), Conflict (a move the lifecycle does not allow), Unavailable.
    """
    stage = parse_stage(target_stage)
    version, current, model = check_transition(tracking_uri, name, version, stage)
    client = client_for(tracking_uri)
    production = _current_production(model)
    result: dict[str, Any] = {"model_name": name, "version": version, "previous_stage": current.value,
                              "stage": stage.value, "archived": [], "changed": current is not stage}
    if current is stage:
        return result
    staging = (getattr(model, "aliases", None) or {}).get(STAGING_ALIAS)
    _mlflow_call(f"Version {version} of model '{name}'", _write_stage, client, model, name, version, stage,
                 production, staging, result)
    return result


def check_transition(tracking_uri: str, name: str, version: Any, stage: Stage) -> tuple[str, Stage, Any]:
    """Check that ``version`` may move to ``stage`` now, writing nothing: (version, its current stage, the
    registered model). Staying in the same stage is allowed. Raises what ``promote_version`` raises."""
    mv = get_version(tracking_uri, name, version)
    version = str(mv.version)
    current = stage_of(mv)
    model = get_registered_model(tracking_uri, name)
    if _current_production(model) == version:
        current = Stage.PRODUCTION  # bootstrap or an older writer may have set the alias without the tag
    if current is stage:
        return version, current, model
    if stage not in ALLOWED_TRANSITIONS[current]:
        hint = ("promote it to Staging first" if stage is Stage.PRODUCTION
                else "the lifecycle is None → Staging → Production → Archived")
        raise Conflict(f"Version {version} of '{name}' is {current.value} and cannot move to {stage.value}; "
                       f"{hint}.",
                       code="invalid_transition",
                       details={"from": current.value, "to": stage.value,
                                "allowed": sorted(s.value for s in ALLOWED_TRANSITIONS[current])})
    if current is Stage.PRODUCTION:
        raise Conflict(f"Version {version} of '{name}' is serving in production; promote another version or roll "
                       "back instead of archiving it.", code="invalid_transition",
                       details={"from": current.value, "to": stage.value})
    return version, current, model


def _write_stage(client: Any, model: Any, name: str, version: str, stage: Stage, production: str | None,
                 staging: Any, result: dict[str, Any]) -> None:
    if stage is Stage.STAGING:
        client.set_model_version_tag(name, version, STAGE_TAG, Stage.STAGING.value)
        client.set_registered_model_alias(name, STAGING_ALIAS, version)
        return
    if staging is not None and str(staging) == version:
        _set_alias(client, name, STAGING_ALIAS, None)
    if stage is Stage.ARCHIVED:
        client.set_model_version_tag(name, version, STAGE_TAG, Stage.ARCHIVED.value)
        return
    history = _history(model)
    if production is not None and (not history or history[-1] != production):
        history.append(production)  # a production version set outside this module (bootstrap)
    history.append(version)
    # Order matters for the inference workers: the alias moves first, then the old version is archived.
    client.set_model_version_tag(name, version, STAGE_TAG, Stage.PRODUCTION.value)
    client.set_registered_model_alias(name, PRODUCTION_ALIAS, version)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-50:]))
    if production is not None:
        client.set_model_version_tag(name, production, STAGE_TAG, Stage.ARCHIVED.value)
        _set_alias(client, name, PREVIOUS_PRODUCTION_ALIAS, production)
        result["archived"].append(production)
    result["previous_production"] = production


def rollback_production(tracking_uri: str, name: str) -> dict[str, Any]:
    """Return production to the version that served before the current one; the current one is Archived.

    Raises NotFound for an unknown model and Conflict when there is no production version or none before it.
    """
    client = client_for(tracking_uri)
    model = get_registered_model(tracking_uri, name)
    production = _current_production(model)
    if production is None:
        raise Conflict(f"'{name}' has no production version to roll back from; promote a version first.",
                       code="nothing_to_roll_back")
    history = _history(model)
    if history and history[-1] == production:
        history.pop()
    # Skip versions deleted from the registry since they served.
    target = None
    while history:
        candidate = history.pop()
        if candidate == production:
            continue
        try:
            get_version(tracking_uri, name, candidate)
        except NotFound:
            continue
        target = candidate
        break
    if target is None:
        raise Conflict(f"'{name}' has no earlier production version than {production} to roll back to.",
                       code="nothing_to_roll_back", details={"productionVersion": production})
    history.append(target)

    def write() -> None:
        client.set_model_version_tag(name, target, STAGE_TAG, Stage.PRODUCTION.value)
        client.set_registered_model_alias(name, PRODUCTION_ALIAS, target)
        client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-50:]))
        client.set_model_version_tag(name, production, STAGE_TAG, Stage.ARCHIVED.value)
        client.set_model_version_tag(name, production, "rolled_back", "true")
        previous = history[-2] if len(history) >= 2 else None
        _set_alias(client, name, PREVIOUS_PRODUCTION_ALIAS, previous)

    _mlflow_call(f"Model '{name}'", write)
    return {"model_name": name, "from_version": production, "to_version": target, "stage": Stage.PRODUCTION.value,
            "archived": [production]}
