"""Starting, stopping and promoting a shadow, as the API offers them. Promotion goes through the registry's one
path (``apply_auto_promote``: Staging, then Production only when the promotion gates pass); nothing here moves a
version any other way."""

from __future__ import annotations

from typing import Annotated, Any, Mapping

import redis
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from geulpi_tasks.errors import Conflict, InvalidInput, NotFound
from geulpi_tasks.registry.gates import PromotionGates, RequestApproval, apply_auto_promote
from geulpi_tasks.registry.lifecycle import check_model_name, get_version
from geulpi_tasks.registry.store import find_version_by_alias
from geulpi_tasks.schemas import MAX_MODEL_VERSION, input_error
from geulpi_tasks.shadow.store import (
    ShadowDeployment,
    ShadowStatus,
    end_running,
    find_running,
    new_deployment,
    read_evidence,
    save_running,
)
from geulpi_tasks.shadow.summary import gate_metrics, summarize


def _version(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= MAX_MODEL_VERSION:
        raise PydanticCustomError("invalid_input", f"'version' must be an integer from 1 to {MAX_MODEL_VERSION}.")
    return str(int(text))


class ShadowRequest(BaseModel):
    """``POST /models/<name>/shadow``: the registered version that scores live traffic beside production."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, BeforeValidator(_version), WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": "^\\s*0*[1-9][0-9]{0,17}\\s*$"}, {"type": "integer", "minimum": 1}],
        "description": "Registry version number", "examples": ["3"]})]


def parse_shadow_request(payload: Any) -> str:
    """The version a start request names; InvalidInput naming the field otherwise."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    try:
        return ShadowRequest.model_validate(payload).version
    except ValidationError as err:
        raise input_error(err, order=("version",)) from None


def _running(client: redis.Redis, key_prefix: str, model_name: str) -> ShadowDeployment:
    running = find_running(client, key_prefix, model_name)
    if running is None:
        raise NotFound(f"No shadow of '{model_name}' is running; start one with POST /models/{model_name}/shadow.",
                       code="no_shadow", details={"modelName": model_name})
    return running


def start_shadow(client: redis.Redis, key_prefix: str, tracking_uri: str, model_name: str, version: str, *,
                 served_model: str) -> tuple[ShadowDeployment, bool]:
    """Start ``version`` shadowing the production version of ``model_name``; ``(deployment, created)``.

    Asking again for the version already shadowing returns it (``created`` False). Raises InvalidInput (name or
    version), NotFound (model or version not in the registry), Conflict (a model the workers do not serve, no
    production version, the version is production, another shadow running), Unavailable.
    """
    model_name = check_model_name(model_name)
    mv = get_version(tracking_uri, model_name, version)
    version = str(mv.version)
    if model_name != served_model:
        raise Conflict(f"The inference workers serve '{served_model}', not '{model_name}'; a shadow only sees "
                       "the traffic of the served model.", code="model_not_served",
                       details={"field": "name", "servedModel": served_model})
    running = find_running(client, key_prefix, model_name)
    if running is not None and running.version == version:
        return running, False
    production = find_version_by_alias(tracking_uri, model_name)
    if production is None:
        raise Conflict(f"'{model_name}' has no production version for a shadow to be compared with; promote one "
                       "first.", code="no_production_version")
    if production.version == version:
        raise Conflict(f"Version {version} of '{model_name}' is the production version; shadow another version.",
                       code="shadow_is_production", details={"field": "version", "productionVersion": version})
    return save_running(client, key_prefix, new_deployment(model_name, version, production.version)), True


def stop_shadow(client: redis.Redis, key_prefix: str, model_name: str) -> ShadowDeployment:
    """Stop the model's running shadow; its figures stay readable. NotFound when none is running."""
    running = _running(client, key_prefix, check_model_name(model_name))
    return end_running(client, key_prefix, running, ShadowStatus.STOPPED, "stopped by request")


def promote_shadow(client: redis.Redis, key_prefix: str, tracking_uri: str, model_name: str,
                   gates: PromotionGates, request_approval: RequestApproval | None = None) -> dict[str, Any]:
    """Promote the running shadow's version through the registry's gates (Staging, then Production); on success
    the shadow ends as ``promoted``. With ``request_approval`` (GEULPI_REQUIRE_APPROVAL) a version that passes
    stays in Staging and keeps shadowing, and the answer carries the pending request as ``pending_approval``.

    Raises NotFound when no shadow runs, Conflict ``promotion_refused`` with the gates' reasons when they do not
    pass (the version is left in Staging and keeps shadowing), Unavailable when Redis or the registry is down.
    """
    running = _running(client, key_prefix, check_model_name(model_name))
    figures = summarize(running, read_evidence(client, key_prefix, running.shadow_id))
    production = find_version_by_alias(tracking_uri, model_name)
    metrics = gate_metrics(tracking_uri, running, figures, production.version if production else None)
    outcome = apply_auto_promote(tracking_uri, model_name, running.version, metrics, gates,
                                 request_approval=request_approval)
    if "pending_approval" in outcome:
        return {"model_name": model_name, "version": running.version, "promoted": False, "stage": outcome["stage"],
                "reasons": outcome["reasons"], "pending_approval": outcome["pending_approval"]}
    if not outcome["promoted"]:
        raise Conflict(f"Version {running.version} of '{model_name}' did not pass the promotion gates: "
                       + "; ".join(outcome["reasons"]) + ". It stays in Staging and keeps shadowing.",
                       code="promotion_refused", details={"version": running.version, "stage": outcome["stage"],
                                                          "reasons": outcome["reasons"]})
    ended = end_running(client, key_prefix, running, ShadowStatus.PROMOTED, "promoted to production")
    return {"model_name": model_name, "version": running.version, "promoted": True, "stage": outcome["stage"],
            "reasons": outcome["reasons"], "archived": outcome["archived"], "shadow": ended.to_wire()}
