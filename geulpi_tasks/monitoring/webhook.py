"""Optional delivery of alert transitions to a webhook in Alertmanager's webhook payload format (version 4)."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any, Sequence

log = logging.getLogger(__name__)

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(ts: float | None) -> str:
    if ts is None:
        return _ZERO_TIME
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def alertmanager_payload(transitions: Sequence[dict[str, Any]], *, receiver: str = "geulpi",
                         external_url: str = "") -> dict[str, Any]:
    """One webhook body for firing/resolved transitions (as returned by ``Monitor.evaluate``)."""
    alerts: list[dict[str, Any]] = []
    for t in transitions:
        labels = {"alertname": t["name"], "severity": t["severity"], "model_name": t["model_name"],
                  "metric_name": t["metric_name"]}
        alerts.append({
            "status": "firing" if t["state"] == "firing" else "resolved",
            "labels": labels,
            "annotations": {"summary": t["message"], "value": "" if t["value"] is None else f"{t['value']:.6g}"},
            "startsAt": _iso(t.get("active_since")),
            "endsAt": _iso(t.get("resolved_at")) if t["state"] == "resolved" else _ZERO_TIME,
            "generatorURL": external_url,
            "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
        })
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)} \
        if alerts else {}
    return {"version": "4", "groupKey": f"{{}}:{{receiver=\"{receiver}\"}}", "truncatedAlerts": 0,
            "status": status, "receiver": receiver, "groupLabels": {}, "commonLabels": common,
            "commonAnnotations": {}, "externalURL": external_url, "alerts": alerts}


def deliver_webhook(url: str, payload: dict[str, Any], *, timeout_s: float = 5.0) -> bool:
    """POST the payload; a receiver that is down is logged and reported as False, never raised to the caller."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - URL is configuration
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as err:
        log.warning("alert webhook %s failed: %s", url, err)
        return False
