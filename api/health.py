"""What /health reports: each dependency checked separately, so a 503 says which part failed."""

from __future__ import annotations

from typing import Any

from celery import Celery

from geulpi_tasks.registry.store import check_registry


def _check(fn: Any) -> dict[str, Any]:
    try:
        detail = fn()
    except Exception as err:  # noqa: BLE001 - a health probe reports every failure instead of raising it
        return {"ok": False, "error": f"{type(err).__name__}: {err}"[:300]}
    return {"ok": True, **(detail or {})}


def redis_eviction_warning(client: Any) -> str | None:
    """A warning when this Redis may evict keys under memory pressure (it would silently drop queued jobs,
    results and state); None for ``noeviction`` or when the policy cannot be read."""
    try:
        policy = client.info("memory").get("maxmemory_policy")
    except Exception:  # noqa: BLE001 - the backend check reports Redis failures; this is only advice
        return None
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy and policy != "noeviction":
        return (f"Redis maxmemory-policy is '{policy}': under memory pressure it evicts keys, silently dropping "
                "queued jobs and state; set maxmemory-policy noeviction.")
    return None


def check_system(celery: Celery, *, tracking_uri: str, model_name: str, ping_timeout: float) -> dict[str, Any]:
    def broker() -> None:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    def backend() -> None:
        celery.backend.client.ping()

    def registry() -> dict[str, Any]:
        return check_registry(tracking_uri, model_name)

    def workers() -> dict[str, Any]:
        replies = celery.control.ping(timeout=ping_timeout) or []
        names = sorted(name for reply in replies for name in reply)
        inference = [n for n in names if n.startswith("inference@")]
        if not inference:
            raise RuntimeError(f"no inference worker answered a ping within {ping_timeout:g} s")
        return {"workers": names}

    # The broker is named even when it fails, so a 503 says whether Redis or RabbitMQ did not answer. Only the
    # transport: /health is open, and host names and users are not for everyone.
    with celery.connection_for_write() as conn:  # not connected until used
        transport = conn.transport_cls
    checks = {"broker": {"transport": transport, **_check(broker)}, "result_backend": _check(backend),
              "registry": _check(registry)}
    # Pinging workers needs the broker; skip it rather than wait for a second timeout.
    checks["inference_worker"] = (_check(workers) if checks["broker"]["ok"]
                                  else {"ok": False, "error": "broker unreachable"})
    report: dict[str, Any] = {"status": "ok" if all(c["ok"] for c in checks.values()) else "unavailable",
                              "checks": checks, "warnings": []}
    if checks["result_backend"]["ok"]:
        warning = redis_eviction_warning(celery.backend.client)
        if warning:
            report["warnings"].append(warning)
    return report
