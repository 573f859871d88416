"""The ``geulpi`` command (installed by ``pip install -e .``; also ``python -m geulpi_tasks.cli``):

- ``geulpi start``: the whole system on this machine (what ``scripts/start`` runs after installing);
- ``geulpi models list|train|promote|rollback|compare|approvals|approve|reject``: the model lifecycle from a
  terminal, through the same domain functions as the API (approvals: GEULPI_REQUIRE_APPROVAL; ``--api-key`` or
  GEULPI_API_KEY says which key acts, approving needs one); prints JSON; exit code 0 on success, 2 for a bad request
  (unknown version, stage, self-approval, ...), 1 when a dependency is unavailable;
- ``geulpi backup PATH`` / ``geulpi restore PATH``: the registry and the durable Redis state in one archive;
- ``geulpi simulate ...``: the traffic simulator (geulpi_tasks.tools.simulation);
- ``geulpi version``: the installed version.

Every command that changes something leaves an audit entry with the local user (or the ``--api-key``'s id) as actor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Sequence

import redis

from geulpi_tasks import __version__, approval, backup
from geulpi_tasks.errors import Conflict, Forbidden, GeulpiError, InvalidInput, NotFound, Unauthorized, Unavailable
from geulpi_tasks.feedback import list_feedback_rows
from geulpi_tasks.privacy.audit import AuditEntry, key_id, local_actor, record_audit
from geulpi_tasks.registry import lifecycle
from geulpi_tasks.registry.compare import compare_versions
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.registry.store import Stage
from geulpi_tasks.settings import Settings
from geulpi_tasks.tools.simulation.cli import main as simulate
from geulpi_tasks.training.job import run_training_job


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geulpi", description="Geulpi Tasks: start the system, manage models, "
                                     "simulate traffic.")
    parser.add_argument("--version", action="version", version=f"geulpi-tasks {__version__}")
    areas = parser.add_subparsers(dest="area", required=True)
    areas.add_parser("start", add_help=False,
                     help="Start Redis (if none answers), the first model, API, workers, Beat, Flower and the MLflow "
                          "UI; Ctrl-C stops them.")
    areas.add_parser("version", help="Print the installed version.")
    areas.add_parser("simulate", add_help=False,
                     help="Drive a running system with labelled traffic (geulpi simulate --help).")
    saving = areas.add_parser("backup", help="Write the registry, its artifacts and the durable Redis state to PATH.")
    saving.add_argument("path", type=Path)
    loading = areas.add_parser("restore", help="Bring a backup archive back into empty stores.")
    loading.add_argument("path", type=Path)
    models = areas.add_parser("models", help="Registered model versions and stages.")
    commands = models.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="Versions of a model, newest first.")
    listing.add_argument("--name", help="Registered model (default: GEULPI_MODEL_NAME).")

    promote = commands.add_parser("promote", help="Move a version to Staging, Production or Archived.")
    promote.add_argument("version")
    promote.add_argument("stage", help="Staging | Production | Archived")
    promote.add_argument("--name")

    rollback = commands.add_parser("rollback", help="Return production to the previous production version.")
    rollback.add_argument("--name")

    compare = commands.add_parser("compare", help="Evaluate two versions now on the same held-out data.")
    compare.add_argument("version_a")
    compare.add_argument("version_b")
    compare.add_argument("--name")
    compare.add_argument("--samples", type=int,
                         help="Generated held-out events (default: GEULPI_COMPARE_EVAL_SAMPLES).")

    approvals = commands.add_parser("approvals", help="Promotion requests (GEULPI_REQUIRE_APPROVAL), newest first.")
    approvals.add_argument("--name")
    approvals.add_argument("--state", help="pending | approved | rejected | expired")
    for verb, text in (("approve", "Approve a pending promotion request and promote its version (needs an API key "
                                   "other than the requester's)."),
                       ("reject", "Reject a pending promotion request.")):
        decide = commands.add_parser(verb, help=text)
        decide.add_argument("approval_id")
        decide.add_argument("--name")
        decide.add_argument("--reason")
    for sub in (promote, commands.choices["approve"], commands.choices["reject"]):
        sub.add_argument("--api-key", dest="api_key",
                         help="Act as this API key (one of GEULPI_API_KEYS; default: GEULPI_API_KEY). Requesters and "
                              "approvers are told apart by it.")

    train = commands.add_parser("train", help="Run a training job in this process.")
    train.add_argument("--model-type", default="event_classifier")
    train.add_argument("--trials", type=int, default=10, dest="n_optimization_trials")
    train.add_argument("--optimize", action="store_true")
    train.add_argument("--auto-promote", action="store_true")
    train.add_argument("--description", default="Trained from the command line.")
    train.add_argument("--families", nargs="+", default=["logistic", "random_forest"],
                       help="Stage-2 model families searched: logistic, random_forest and/or xgboost.")
    return parser


def _feedback_rows(settings: Settings) -> list[dict[str, Any]]:
    if settings.disable_redis:
        return []
    return list_feedback_rows(_redis(settings), settings.key_prefix)


def _redis(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2.0, socket_timeout=30.0)


def _run(args: argparse.Namespace, settings: Settings) -> Any:
    uri = settings.effective_tracking_uri
    if args.area in ("backup", "restore"):
        run = backup.backup if args.area == "backup" else backup.restore
        return run(args.path, redis_client=_redis(settings), key_prefix=settings.key_prefix, tracking_uri=uri,
                   artifact_root=settings.artifact_root)
    name = lifecycle.check_model_name(getattr(args, "name", None) or settings.model_name)
    if args.command == "list":
        return lifecycle.list_versions(uri, name)
    if args.command == "promote":
        if settings.require_approval and lifecycle.parse_stage(args.stage) is Stage.PRODUCTION:
            return _request_approval(args, settings, name)
        return lifecycle.promote_version(uri, name, args.version, args.stage)
    if args.command in ("approvals", "approve", "reject"):
        return _decide(args, settings, name)
    if args.command == "rollback":
        return lifecycle.rollback_production(uri, name)
    if args.command == "compare":
        return compare_versions(uri, name, args.version_a, args.version_b, cache_dir=settings.data_dir / "model_cache",
                                n_generated=args.samples or settings.compare_eval_samples,
                                feedback_rows=_feedback_rows(settings))
    return _train(args, settings)


def _actor(args: argparse.Namespace, settings: Settings, *, key_needed: bool) -> str:
    """Who acts: the audit id of the API key given (--api-key or GEULPI_API_KEY), which must be one of
    GEULPI_API_KEYS; without one the local user, unless ``key_needed``."""
    key = (getattr(args, "api_key", None) or settings.client_api_key or "").strip()
    if not key:
        if key_needed:
            raise Unauthorized("Approving a promotion needs an API key other than the requester's: pass --api-key "
                               "or set GEULPI_API_KEY.", code="missing_api_key")
        return local_actor()
    if key not in settings.api_key_list:
        raise Unauthorized("The API key is not one of GEULPI_API_KEYS.", code="invalid_api_key")
    return key_id(key)


def _approval_redis(settings: Settings) -> redis.Redis:
    if settings.disable_redis:
        raise Unavailable("Promotion approvals need Redis, which is off in limited mode (DISABLE_REDIS).",
                          details={"dependency": "redis"})
    return _redis(settings)


def _request_approval(args: argparse.Namespace, settings: Settings, name: str) -> Any:
    """A promotion to Production when approval is required: a pending request, compared with production here."""
    client = _approval_redis(settings)
    uri = settings.effective_tracking_uri
    pending, created = approval.request_promotion(
        client, settings.key_prefix, approval.ApprovalPolicy.from_settings(settings), uri, name, args.version,
        requested_by=_actor(args, settings, key_needed=False), source="cli",
        gates=PromotionGates.from_settings(settings))
    if created:
        pending = approval.attach_comparison(
            client, settings.key_prefix, uri, pending.approval_id,
            lambda a, b: compare_versions(uri, name, a, b, cache_dir=settings.data_dir / "model_cache",
                                          n_generated=settings.compare_eval_samples,
                                          feedback_rows=_feedback_rows(settings)))
    return pending.to_wire()


def _decide(args: argparse.Namespace, settings: Settings, name: str) -> Any:
    client = _approval_redis(settings)
    policy = approval.ApprovalPolicy.from_settings(settings)
    if args.command == "approvals":
        found = approval.list_requests(client, settings.key_prefix, policy, name,
                                       state=approval.parse_state(args.state))
        return {"model_name": name, "approvals": [r.to_wire() for r in found], "count": len(found)}
    reason = approval.check_reason(args.reason)
    if args.command == "approve":
        return approval.approve_request(client, settings.key_prefix, policy, settings.effective_tracking_uri, name,
                                        args.approval_id, approved_by=_actor(args, settings, key_needed=True),
                                        source="cli", reason=reason).to_wire()
    return approval.reject_request(client, settings.key_prefix, policy, name, args.approval_id,
                                   rejected_by=_actor(args, settings, key_needed=False), source="cli",
                                   reason=reason).to_wire()


def _train(args: argparse.Namespace, settings: Settings) -> Any:
    request = {"model_type": args.model_type, "optimize": args.optimize, "auto_promote": args.auto_promote,
               "n_optimization_trials": args.n_optimization_trials, "description": args.description,
               "families": args.families, "trigger": "cli"}

    def progress(state: dict[str, Any]) -> None:
        print(json.dumps(state, ensure_ascii=False, default=str), file=sys.stderr)

    job_id = f"cli-{uuid.uuid4().hex}"
    request_approval = None
    if settings.require_approval and args.auto_promote:
        request_approval = approval.approval_hook(
            _approval_redis(settings), settings.key_prefix, approval.ApprovalPolicy.from_settings(settings),
            settings.effective_tracking_uri, requested_by=f"job:{job_id}", source="training",
            gates=PromotionGates.from_settings(settings))
    return run_training_job(request, job_id=job_id, tracking_uri=settings.effective_tracking_uri,
                            artifact_root=settings.artifact_root, redis_url=settings.redis_url,
                            key_prefix=settings.key_prefix, progress=progress, seed=settings.seed,
                            gates=PromotionGates.from_settings(settings), request_approval=request_approval)


def start(argv: Sequence[str]) -> int:
    """Replace this process with the launcher (``workers.launcher``, a layer above this one: run, not imported)."""
    command = [sys.executable, "-m", "workers.launcher", *argv]
    os.execv(sys.executable, command)
    return 1  # not reached: execv only returns by raising


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["simulate"]:
        return simulate(argv[1:], settings=settings, prog="geulpi simulate")
    if argv[:1] == ["start"]:
        return start(argv[1:])
    args = _parser().parse_args(argv)
    if args.area == "version":
        print(f"geulpi-tasks {__version__}")
        return 0
    settings = settings or Settings.from_env()
    try:
        result = _run(args, settings)
    except (InvalidInput, NotFound, Conflict, Forbidden, Unauthorized) as err:
        _audit(args, settings, err.code)
        print(json.dumps({"error": err.to_dict()}, ensure_ascii=False), file=sys.stderr)
        return 2
    except GeulpiError as err:
        _audit(args, settings, err.code)
        print(json.dumps({"error": err.to_dict()}, ensure_ascii=False), file=sys.stderr)
        return 1
    _audit(args, settings, "ok")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def _audit(args: argparse.Namespace, settings: Settings, outcome: str) -> None:
    """One audit entry per mutating command (not ``models list``), with the local user as actor."""
    if args.area == "models" and args.command in ("list", "approvals"):
        return
    action = args.area if args.area != "models" else f"models.{args.command}"
    actor = local_actor()
    if getattr(args, "api_key", None) or settings.client_api_key:
        try:
            actor = _actor(args, settings, key_needed=False)
        except Unauthorized:
            actor = local_actor()
    name = getattr(args, "name", None) or settings.model_name
    target = {"backup": str(getattr(args, "path", "")), "restore": str(getattr(args, "path", "")),
              "models.promote": f"{name}:{getattr(args, 'version', '?')}->{getattr(args, 'stage', '?')}",
              "models.compare": f"{name}:{getattr(args, 'version_a', '?')}~{getattr(args, 'version_b', '?')}",
              "models.train": getattr(args, "model_type", name),
              "models.approve": f"{name}#{getattr(args, 'approval_id', '?')}",
              "models.reject": f"{name}#{getattr(args, 'approval_id', '?')}"}.get(action, name)
    if settings.disable_redis:
        return
    try:
        record_audit(_redis(settings), settings.key_prefix,
                     AuditEntry(actor=actor, action=action, target=target, outcome=outcome, source="cli"),
                     max_age_s=settings.audit_max_age_s)
    except GeulpiError as err:
        print(json.dumps({"warning": f"audit entry lost: {err.message}"}), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
