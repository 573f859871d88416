"""A/B experiments as the API offers them: create (validated), list, results, stop, and the Beat expiry.

Every function takes the Redis client, key prefix, tracking URI and thresholds it needs; nothing is global.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis
from mlflow.exceptions import MlflowException

from geulpi_tasks.errors import Conflict, GeulpiError, InvalidInput, NotFound, Unavailable
from geulpi_tasks.experiments import statistics as st
from geulpi_tasks.experiments.request import parse_experiment
from geulpi_tasks.experiments.store import (
    Experiment,
    ExperimentStatus,
    Variant,
    find_final_results,
    get_experiment,
    read_counts,
    save_stopped,
)
from geulpi_tasks.experiments.store import (
    create_experiment as store_experiment,
)
from geulpi_tasks.experiments.store import (
    list_experiments as stored_experiments,
)
from geulpi_tasks.registry.gates import PromotionGates, RequestApproval, apply_auto_promote
from geulpi_tasks.registry.store import client_for, find_version_by_alias, run_metrics
from geulpi_tasks.settings import Settings


@dataclass(frozen=True)
class AnalysisConfig:
    """The statistical knobs (from Settings): see geulpi_tasks.settings for what each one is for."""

    min_samples: int = Settings.ab_min_samples
    alpha: float = Settings.ab_alpha
    tau: float = Settings.ab_msprt_tau
    srm_p: float = Settings.ab_srm_p
    min_feedback: int = Settings.ab_min_feedback

    @classmethod
    def from_settings(cls, settings: Settings) -> "AnalysisConfig":
        return cls(min_samples=settings.ab_min_samples, alpha=settings.ab_alpha, tau=settings.ab_msprt_tau,
                   srm_p=settings.ab_srm_p, min_feedback=settings.ab_min_feedback)


def check_versions_exist(tracking_uri: str, model_type: str, variants: list[Variant]) -> None:
    """NotFound naming the variant whose version is not in the registry; Unavailable if the registry is down."""

    missing = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}
    client = client_for(tracking_uri)
    try:
        client.get_registered_model(model_type)
    except MlflowException as err:
        if getattr(err, "error_code", "") in missing:
            raise NotFound(f"No registered model '{model_type}'; name one from the registry.",
                           details={"field": "model_type", "modelType": model_type}) from err
        raise Unavailable(f"The model registry did not answer: {err}", details={"dependency": "registry"}) from err
    for i, variant in enumerate(variants):
        try:
            client.get_model_version(model_type, variant.version)
        except MlflowException as err:
            if getattr(err, "error_code", "") in missing:
                raise NotFound(f"Model '{model_type}' has no version {variant.version} in the registry; register "
                               "it first.", details={"field": f"variants[{i}].version", "version": variant.version,
                                                     "modelType": model_type}) from err
            raise Unavailable(f"The model registry did not answer: {err}", details={"dependency": "registry"}) from err


def create_experiment(client: redis.Redis, prefix: str, tracking_uri: str, payload: Any, *,
                      now: float | None = None) -> Experiment:
    """Validate, check the versions in the registry and start the experiment.

    Raises InvalidInput/InvalidValue (400/422) naming the field, NotFound (404) for a version missing from the
    registry, Conflict (409) when the model already has a running experiment.
    """
    experiment = parse_experiment(payload, now=time.time() if now is None else now)
    check_versions_exist(tracking_uri, experiment.model_type, experiment.variants)
    store_experiment(client, prefix, experiment)
    return experiment


def list_experiments(client: redis.Redis, prefix: str) -> list[dict[str, Any]]:
    """Every experiment with its status, oldest first."""
    return [e.to_wire() for e in stored_experiments(client, prefix)]


def analyze(experiment: Experiment, counts: dict[str, dict[str, Any]], config: AnalysisConfig) -> dict[str, Any]:
    """The results document from the counters: per-variant figures, fixed-horizon tests, SRM, decision, scores."""
    names = [v.name for v in experiment.variants]
    per_variant: dict[str, dict[str, Any]] = {}
    for v in experiment.variants:
        c = counts[v.name]
        n = c["exposures"]
        lat = st.latency_summary(c["latencies"])
        mean = c["latency_sum_ms"] / c["latency_count"] if c["latency_count"] else None
        accuracy = c["correct"] / c["feedback"] if c["feedback"] else None
        values = {"success_rate": c["successes"] / n if n else None, "error_rate": c["failures"] / n if n else None,
                  "accuracy": accuracy, "avg_latency_ms": mean, "p50_latency_ms": lat["p50"],
                  "p95_latency_ms": lat["p95"]}
        per_variant[v.name] = {
            "version": v.version, "trafficPercentage": v.traffic_percentage, "exposures": n,
            "successes": c["successes"], "failures": c["failures"], "successRate": values["success_rate"],
            "latencyMs": {"mean": mean, "p50": lat["p50"], "p95": lat["p95"], "samplesKept": len(c["latencies"])},
            "feedback": {"answers": c["feedback"], "correct": c["correct"], "accuracy": accuracy},
            **st.score_variant(values, experiment.success_metrics),
        }
    control = names[0]
    c0 = counts[control]
    fixed: dict[str, Any] = {}
    for name in names[1:]:
        c1 = counts[name]
        entry: dict[str, Any] = {
            "against": control,
            "successRate": st.two_proportion_test(c0["successes"], c0["exposures"], c1["successes"],
                                                  c1["exposures"]).to_dict(),
            "latency": st.latency_comparison(c0["latencies"], c1["latencies"]),
        }
        if min(c0["feedback"], c1["feedback"]) >= config.min_feedback:
            entry["accuracy"] = st.two_proportion_test(c0["correct"], c0["feedback"], c1["correct"],
                                                       c1["feedback"]).to_dict()
        else:
            entry["accuracy"] = {"status": "collecting_data",
                                 "reason": f"Needs {config.min_feedback} feedback answers per variant."}
        fixed[name] = entry

    # The decision metric is fixed by the definition, never chosen after looking at the data.
    use_accuracy = "accuracy" in experiment.success_metrics
    if use_accuracy:
        successes = [counts[n]["correct"] for n in names]
        totals = [counts[n]["feedback"] for n in names]
        min_samples = config.min_feedback
    else:
        successes = [counts[n]["successes"] for n in names]
        totals = [counts[n]["exposures"] for n in names]
        min_samples = config.min_samples
    decision = st.decide_winner(names, successes, totals, min_samples=min_samples, alpha=config.alpha, tau=config.tau)
    exposures = [counts[n]["exposures"] for n in names]
    if min(exposures) < config.min_samples and decision["status"] != "collecting_data":
        decision = {**decision, "status": "collecting_data", "winner": None,
                    "reason": f"Every variant needs {config.min_samples} requests before a winner can be declared "
                              f"(fewest so far: {min(exposures)})."}
    srm = st.sample_ratio_mismatch(exposures, [v.traffic_percentage for v in experiment.variants],
                                   threshold=config.srm_p)
    if srm["mismatch"] and decision["winner"] is not None:
        decision = {**decision, "status": "sample_ratio_mismatch", "winner": None,
                    "reason": "The observed split differs from the configured one (SRM); fix assignment first."}
    decision["metric"] = "accuracy" if use_accuracy else "success_rate"
    decision["method"] = "mSPRT (normal mixture) confidence sequence"
    decision["tau"] = config.tau
    return {
        "experiment": experiment.to_wire(),
        "variants": per_variant,
        "decision": decision,
        "winner": decision["winner"] if decision["winner"] is not None else
        ("collecting data" if decision["status"] == "collecting_data" else "no significant difference"),
        "fixedHorizon": fixed,
        "sampleRatioMismatch": srm,
        "recommendation": _recommend(experiment, decision, srm, per_variant),
        "minSamplesPerVariant": config.min_samples,
    }


def _recommend(experiment: Experiment, decision: dict[str, Any], srm: dict[str, Any],
               per_variant: dict[str, dict[str, Any]]) -> str:
    if srm["mismatch"]:
        return "Sample-ratio mismatch: the traffic split is not the configured one; do not trust these results."
    if decision["status"] == "collecting_data":
        return "Collecting data: " + decision["reason"]
    if decision["winner"] is not None:
        version = per_variant[decision["winner"]]["version"]
        return (f"Promote '{decision['winner']}' (version {version} of {experiment.model_type}): "
                + decision["reason"])
    return "No significant difference: keep the current production version or collect more data."


# What each variant's version logged when it was trained: hand-labelled figures beside the generator's, so an A/B
# result on live traffic can be read next to how the versions do on real events offline.
OFFLINE_QUALITY = ("realistic_dev_accuracy", "realistic_dev_macro_f1", "realistic_test_accuracy",
                   "realistic_test_macro_f1", "realistic_test_ece", "accuracy")


def offline_quality(tracking_uri: str, experiment: Experiment) -> dict[str, Any]:
    """Per variant, its version's logged offline figures (null where a version has none); the registry being
    unreachable is reported in place, the live statistics never depend on it."""
    out: dict[str, Any] = {}
    for variant in experiment.variants:
        try:
            run_id = client_for(tracking_uri).get_model_version(experiment.model_type, variant.version).run_id
            logged = run_metrics(tracking_uri, run_id) if run_id else {}
        except (MlflowException, GeulpiError) as err:
            out[variant.name] = {"error": str(getattr(err, "message", err))}
            continue
        out[variant.name] = {"version": variant.version, **{name: logged.get(name) for name in OFFLINE_QUALITY}}
    return out


def get_results(client: redis.Redis, prefix: str, experiment_id: str, config: AnalysisConfig, *,
                now: float | None = None, tracking_uri: str | None = None) -> dict[str, Any]:
    """Live results of a running experiment, or the final results stored when it stopped. NotFound if unknown.
    With ``tracking_uri``, live results also carry each variant's ``offline_quality``."""
    experiment = get_experiment(client, prefix, experiment_id)
    if experiment.status is ExperimentStatus.STOPPED:
        final = find_final_results(client, prefix, experiment_id)
        if final is not None:
            return final
    results = analyze(experiment, read_counts(client, prefix, experiment), config)
    if tracking_uri is not None:
        results["offline_quality"] = offline_quality(tracking_uri, experiment)
    return results


def stop_experiment(client: redis.Redis, prefix: str, experiment_id: str, config: AnalysisConfig, *,
                    reason: str = "stopped by request", promote_winner: bool = False,
                    tracking_uri: str | None = None, gates: PromotionGates | None = None,
                    now: float | None = None, request_approval: RequestApproval | None = None) -> dict[str, Any]:
    """Stop the experiment and return its final results (stored, so later reads return the same document).

    Stopping twice is harmless: the second call returns the stored results. With ``promote_winner`` (or the
    experiment's ``auto_promote``) a declared winner goes through the registry's promotion gates; ``promotion``
    in the answer says what happened and why. With ``request_approval`` (GEULPI_REQUIRE_APPROVAL) a winner that
    passes the gates stops at a pending request (``promotion.pending_approval``).
    """
    experiment = get_experiment(client, prefix, experiment_id)
    if experiment.status is ExperimentStatus.STOPPED:
        final = find_final_results(client, prefix, experiment_id)
        if final is not None:
            return final
    experiment.status = ExperimentStatus.STOPPED
    experiment.stopped_at = time.time() if now is None else now
    experiment.stop_reason = reason
    results = analyze(experiment, read_counts(client, prefix, experiment), config)
    if tracking_uri is not None:
        results["offline_quality"] = offline_quality(tracking_uri, experiment)
    promote = promote_winner or bool(experiment.extra.get("auto_promote"))
    results["promotion"] = (_promote(experiment, results, tracking_uri, gates, request_approval) if promote
                            else {"requested": False})
    if not save_stopped(client, prefix, experiment, results):
        final = find_final_results(client, prefix, experiment_id)
        if final is None:  # pragma: no cover - the final key is written before anything else
            raise Conflict(f"Experiment '{experiment_id}' is being stopped by another caller; retry.")
        return final
    return results


def _promote(experiment: Experiment, results: dict[str, Any], tracking_uri: str | None,
             gates: PromotionGates | None, request_approval: RequestApproval | None = None) -> dict[str, Any]:
    """Promote the declared winner through the registry's normal path: Staging, then Production only when the
    version's logged held-out metrics pass the promotion gates and are not worse than production's."""

    winner = results["decision"]["winner"]
    if winner is None:
        return {"requested": True, "promoted": False, "reasons": ["No winner was declared."]}
    if tracking_uri is None or gates is None:
        raise InvalidInput("Promotion needs the registry's tracking URI and promotion gates.", field="promote_winner")
    version = experiment.variant(winner).version
    try:
        current = find_version_by_alias(tracking_uri, experiment.model_type)
        if current is not None and current.version == version:
            return {"requested": True, "promoted": False, "version": version,
                    "reasons": [f"Version {version} is already in production."]}
        client = client_for(tracking_uri)
        run_id = client.get_model_version(experiment.model_type, version).run_id
        metrics = dict(client.get_run(run_id).data.metrics) if run_id else {}
        outcome = apply_auto_promote(tracking_uri, experiment.model_type, version, metrics, gates, request_approval)
    except GeulpiError as err:  # the experiment still stops; the answer says why the winner was not promoted
        return {"requested": True, "promoted": False, "version": version, "reasons": [err.message],
                "error": err.code}
    return {"requested": True, "promoted": bool(outcome["promoted"]), "version": version,
            "stage": outcome["stage"], "reasons": outcome["reasons"], "archived": outcome["archived"],
            **({"pending_approval": outcome["pending_approval"]} if "pending_approval" in outcome else {})}


def stop_expired_experiments(client: redis.Redis, prefix: str, config: AnalysisConfig, *,
                             tracking_uri: str | None = None, gates: PromotionGates | None = None,
                             now: float | None = None, request_approval: RequestApproval | None = None) -> list[str]:
    """Stop every running experiment whose duration has passed; returns their ids (Beat calls this)."""
    moment = time.time() if now is None else now
    stopped = []
    for experiment in stored_experiments(client, prefix):
        if experiment.status is ExperimentStatus.RUNNING and experiment.ends_at <= moment:
            stop_experiment(client, prefix, experiment.experiment_id, config, reason="duration_hours passed",
                            tracking_uri=tracking_uri, gates=gates, now=moment, request_approval=request_approval)
            stopped.append(experiment.experiment_id)
    return stopped
