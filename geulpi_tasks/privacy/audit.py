"""The audit trail: one entry per mutating call (API or CLI) in a Redis stream, trimmed by age.

An entry says when, who (the API key's id — a digest, never the key — or ``local:<user>`` for the CLI), what
(``action``, e.g. ``models.promote``), on what (``target``) and how it ended (``outcome``: ``ok`` or the error
code, and the HTTP status). User ids never appear in targets: erasure is recorded with the user's digest.
"""

from __future__ import annotations

import getpass
import hashlib
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, InvalidInput, Unavailable
from geulpi_tasks.privacy.keys import audit_key

MAX_READ = 1000


def key_id(api_key: str) -> str:
    """The id of an API key as the audit shows it: ``key:`` + 12 hex digits of its SHA-256."""
    return "key:" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def local_actor() -> str:
    """The CLI's actor: the local user running it."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (e.g. a container's arbitrary uid)
        return "local:unknown"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str
    outcome: str
    source: str = "api"
    status: int | None = None
    at: float = 0.0

    def to_fields(self) -> dict[str, str]:
        fields = {"at": repr(self.at or time.time()), "actor": self.actor, "action": self.action,
                  "target": self.target, "outcome": self.outcome, "source": self.source}
        if self.status is not None:
            fields["status"] = str(self.status)
        return fields

    @classmethod
    def from_fields(cls, raw: dict[Any, Any]) -> "AuditEntry":
        f = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
             for k, v in raw.items()}
        return cls(actor=f.get("actor", ""), action=f.get("action", ""), target=f.get("target", ""),
                   outcome=f.get("outcome", ""), source=f.get("source", ""),
                   status=int(f["status"]) if f.get("status") else None, at=float(f.get("at", 0.0)))


def record_audit(client: Any, key_prefix: str, entry: AuditEntry, *, max_age_s: float) -> str:
    """Append ``entry`` and drop entries older than ``max_age_s``. Returns the stream id.

    Raises Unavailable when Redis does not answer."""
    now = time.time()
    entry = entry if entry.at else AuditEntry(**{**asdict(entry), "at": now})
    oldest_ms = max(0, int((now - max_age_s) * 1000))
    try:
        entry_id = client.xadd(audit_key(key_prefix), entry.to_fields(), minid=oldest_ms, approximate=False)
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis, which holds the audit trail, is unreachable; retry shortly.",
                          details={"dependency": "redis"}) from err
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def parse_since(raw: str | None) -> float | None:
    """``since`` as epoch seconds (a number or an ISO 8601 time); InvalidInput naming ``since`` otherwise."""
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError as err:
            raise InvalidInput("'since' must be epoch seconds or an ISO 8601 time.", field="since") from err
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    if not 0 <= value < 1e11:
        raise InvalidInput("'since' must be epoch seconds between 0 and 1e11.", field="since")
    return value


def read_audit(client: Any, key_prefix: str, *, since: float | None = None, action: str | None = None,
               limit: int = MAX_READ) -> list[dict[str, Any]]:
    """Entries at or after ``since`` (oldest first), of ``action`` (exact, or a prefix such as ``models``), at most
    ``limit``. Raises Unavailable when Redis does not answer.

    The stream id is Redis's clock when the entry was added, never before its ``at``: reading from ``since`` by id
    finds every entry at or after ``since`` plus a few written just before it, which the ``at`` check drops."""
    start = f"{int(since * 1000)}-0" if since is not None else "-"
    found: list[dict[str, Any]] = []
    try:
        while len(found) < limit:
            page = client.xrange(audit_key(key_prefix), min=start, max="+", count=500)
            for entry_id, raw in page:
                entry = AuditEntry.from_fields(raw)
                if action and entry.action != action and not entry.action.startswith(action + "."):
                    continue
                if since is not None and entry.at < since:
                    continue
                eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                found.append({"id": eid, **asdict(entry)})
                if len(found) >= limit:
                    break
            if len(page) < 500:
                break
            last = page[-1][0].decode() if isinstance(page[-1][0], bytes) else str(page[-1][0])
            start = f"({last}"
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis, which holds the audit trail, is unreachable; retry shortly.",
                          details={"dependency": "redis"}) from err
    return found
