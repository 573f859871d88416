"""Backup and restore of what a disaster must not lose: the MLflow registry (its database and artifacts) and the
durable Redis state (experiments, feedback, alert rules and history, the audit trail, erasure tombstones).

One archive (``.tar.gz``) holds:
- ``manifest.json``: format, time, key prefix, where the registry and artifacts were;
- ``mlflow/mlflow.db`` (SQLite, copied with SQLite's online backup API, so a running server's writes cannot tear it)
  or ``mlflow/mlflow.pgdump`` (``pg_dump --format=custom`` for PostgreSQL);
- ``artifacts/...``: the local artifact root;
- ``redis.jsonl``: every durable key in Redis's own serialization (``DUMP``, restored with ``RESTORE``) and its
  remaining TTL, read by one Lua script, so Redis hands out a point-in-time snapshot of all of them at once.

Queued jobs, task results and the classification cache are not in it: they are short-lived by design.
Restore writes into empty stores only (Conflict otherwise), so it can never merge two histories.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from geulpi_tasks.approval import approval_key
from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS, Conflict, InvalidInput, Unavailable
from geulpi_tasks.experiments.store import experiment_key
from geulpi_tasks.feedback import feedback_key
from geulpi_tasks.monitoring.keys import MonitoringKeys
from geulpi_tasks.privacy.keys import audit_key, erased_key, privacy_key

FORMAT = 1

# Atomic: one script reads every key of every pattern, with its DUMP and PTTL.
_SNAPSHOT_SCRIPT = """
local out = {}
for _, pattern in ipairs(ARGV) do
  local cursor = "0"
  repeat
    local reply = redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do
      table.insert(out, key)
      table.insert(out, redis.call("DUMP", key))
      table.insert(out, redis.call("PTTL", key))
    end
  until cursor == "0"
end
return out
"""


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def durable_patterns(key_prefix: str) -> list[str]:
    """SCAN patterns of the Redis keys a backup keeps."""
    monitoring = MonitoringKeys(key_prefix)
    exact = [feedback_key(key_prefix, "rows"), monitoring.rules, monitoring.states, monitoring.history,
             audit_key(key_prefix), erased_key(key_prefix)]
    prefixes = [experiment_key(key_prefix, ""), privacy_key(key_prefix, "user_versions", ""),
                approval_key(key_prefix, "")]
    return [_glob_escape(k) for k in exact] + [_glob_escape(p) + "*" for p in prefixes]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def snapshot_redis(client: Any, key_prefix: str) -> list[dict[str, Any]]:
    """Every durable key as ``{"key", "dump" (base64), "pttl"}``, read atomically. Unavailable when Redis is down."""
    try:
        reply = client.eval(_SNAPSHOT_SCRIPT, 0, *durable_patterns(key_prefix))
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; no backup was written.", details={"dependency": "redis"}) from err
    seen: dict[str, dict[str, Any]] = {}
    for i in range(0, len(reply), 3):
        key = _text(reply[i])
        seen[key] = {"key": key, "dump": base64.b64encode(reply[i + 1]).decode("ascii"), "pttl": int(reply[i + 2])}
    return sorted(seen.values(), key=lambda item: item["key"])


def restore_redis(client: Any, key_prefix: str, items: list[dict[str, Any]]) -> int:
    """RESTORE every key; Conflict when Redis already holds any durable key of this prefix."""
    try:
        for pattern in durable_patterns(key_prefix):
            for key in client.scan_iter(match=pattern, count=1000):
                raise Conflict(f"Redis already holds '{_text(key)}'; restore writes into an empty store only "
                               "(use another key prefix or database, or empty this one first).",
                               details={"store": "redis", "key": _text(key)})
        pipe = client.pipeline(transaction=True)
        for item in items:
            pttl = int(item["pttl"])
            pipe.restore(item["key"], pttl if pttl > 0 else 0, base64.b64decode(item["dump"]))
        pipe.execute()
    except REDIS_OUTAGE_ERRORS as err:
        raise Unavailable("Redis is unreachable; nothing was restored into it.", details={"dependency": "redis"}
                          ) from err
    return len(items)


def _registry_kind(tracking_uri: str) -> str:
    scheme = tracking_uri.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in {"postgresql", "postgres"}:
        return "postgresql"
    raise InvalidInput(f"Backup reads the registry's database directly; '{scheme}://' is not one it can read. For an "
                       "MLflow server, point MLFLOW_TRACKING_URI at its database (sqlite:/// or postgresql://) "
                       "where the backup runs.", field="MLFLOW_TRACKING_URI")


def _sqlite_path(tracking_uri: str) -> Path:
    # sqlite:///relative/path or sqlite:////absolute/path (SQLAlchemy's form, as MLflow uses it)
    return Path(unquote(tracking_uri.split("://", 1)[1][1:].split("?", 1)[0])).resolve()


def _pg_url(tracking_uri: str) -> str:
    return "postgresql://" + tracking_uri.split("://", 1)[1]  # libpq does not know SQLAlchemy's "+driver"


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise Unavailable(f"'{command[0]}' is not installed; install the PostgreSQL client tools.",
                          details={"dependency": command[0]}) from err
    if done.returncode != 0:
        raise Unavailable(f"{command[0]} failed: {done.stderr.strip()[:300]}", details={"dependency": "postgresql"})


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


def backup(path: Path, *, redis_client: Any, key_prefix: str, tracking_uri: str, artifact_root: Path
           ) -> dict[str, Any]:
    """Write one archive at ``path`` (replaced atomically); returns its manifest.

    Raises InvalidInput for a registry it cannot read, Unavailable when Redis or pg_dump fails."""
    kind = _registry_kind(tracking_uri)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="geulpi-backup-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "mlflow").mkdir()
        # Redis first, then the registry: a version registered in between is in the registry but nothing in
        # Redis can name it yet, so the archive never holds an experiment without its versions.
        items = snapshot_redis(redis_client, key_prefix)
        with open(tmp / "redis.jsonl", "w") as out:
            for item in items:
                out.write(json.dumps(item) + "\n")
        if kind == "sqlite":
            db = _sqlite_path(tracking_uri)
            if not db.exists():
                raise InvalidInput(f"The registry database {db} does not exist.", field="MLFLOW_TRACKING_URI")
            _copy_sqlite(db, tmp / "mlflow" / "mlflow.db")
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={tmp / 'mlflow' / 'mlflow.pgdump'}",
                  _pg_url(tracking_uri)])
        manifest = {"format": FORMAT, "createdAt": time.time(), "keyPrefix": key_prefix, "registry": kind,
                    "artifactRoot": str(artifact_root.resolve()), "redisKeys": len(items)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(tmp / "manifest.json", arcname="manifest.json")
            archive.add(tmp / "redis.jsonl", arcname="redis.jsonl")
            archive.add(tmp / "mlflow", arcname="mlflow")
            if artifact_root.exists():
                archive.add(artifact_root, arcname="artifacts")
        os.replace(partial, path)
    return manifest


def _rewrite_sqlite_paths(db: Path, old: str, new: str) -> None:
    """Artifact locations are absolute: point every one under the old artifact root at the new one."""
    con = sqlite3.connect(db)
    try:
        with con:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for column in con.execute(f'PRAGMA table_info("{table}")').fetchall():
                    if "CHAR" in str(column[2]).upper() or "TEXT" in str(column[2]).upper():
                        con.execute(f'UPDATE "{table}" SET "{column[1]}" = REPLACE("{column[1]}", ?, ?) '
                                    f'WHERE "{column[1]}" LIKE ?', (old, new, f"%{old}%"))
    finally:
        con.close()


def restore(path: Path, *, redis_client: Any, key_prefix: str, tracking_uri: str, artifact_root: Path
            ) -> dict[str, Any]:
    """Bring an archive back into empty stores. Conflict when the registry, the artifact root or Redis already
    hold data; InvalidInput for an archive that is not one of ours or whose key prefix differs."""
    kind = _registry_kind(tracking_uri)
    with tempfile.TemporaryDirectory(prefix="geulpi-restore-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(tmp, filter="data")
            manifest = json.loads((tmp / "manifest.json").read_text())
        except (OSError, tarfile.TarError, ValueError, KeyError) as err:
            raise InvalidInput(f"{path} is not a Geulpi backup archive ({type(err).__name__}).", field="path") from err
        if manifest.get("format") != FORMAT:
            raise InvalidInput(f"Archive format {manifest.get('format')!r} is not {FORMAT}.", field="path")
        if manifest["registry"] != kind:
            raise InvalidInput(f"The archive holds a {manifest['registry']} registry, the target is {kind}.",
                               field="MLFLOW_TRACKING_URI")
        if manifest["keyPrefix"] != key_prefix:
            raise InvalidInput(f"The archive's key prefix is '{manifest['keyPrefix']}', this system's is "
                               f"'{key_prefix}'; set GEULPI_KEY_PREFIX to match.", field="GEULPI_KEY_PREFIX")
        root = artifact_root.resolve()
        if root.exists() and any(root.iterdir()):
            raise Conflict(f"The artifact root {root} is not empty; restore writes into empty stores only.",
                           details={"store": "artifacts"})
        items = [json.loads(line) for line in (tmp / "redis.jsonl").read_text().splitlines() if line]
        if kind == "sqlite":
            db = _sqlite_path(tracking_uri)
            if db.exists() and db.stat().st_size > 0:
                raise Conflict(f"The registry database {db} exists; restore writes into empty stores only.",
                               details={"store": "registry"})
        # Redis last among the checks but first to write: its check and writes are one step (restore_redis).
        restored = restore_redis(redis_client, key_prefix, items)
        if kind == "sqlite":
            db.parent.mkdir(parents=True, exist_ok=True)
            staged = tmp / "mlflow" / "mlflow.db"
            if manifest["artifactRoot"] != str(root):
                _rewrite_sqlite_paths(staged, manifest["artifactRoot"], str(root))
            shutil.copyfile(staged, db)
        else:
            _run(["pg_restore", "--no-owner", f"--dbname={_pg_url(tracking_uri)}",
                  str(tmp / "mlflow" / "mlflow.pgdump")])
        if (tmp / "artifacts").exists():
            root.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tmp / "artifacts", root, dirs_exist_ok=True)
    return {**manifest, "restoredRedisKeys": restored}
