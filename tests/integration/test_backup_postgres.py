"""Backup and restore with MLflow on PostgreSQL (pg_dump / pg_restore), as docker-compose runs it.

Uses the PostgreSQL on 127.0.0.1:5432 when one answers (a database of its own, dropped afterwards); skipped with the
reason otherwise, like the RabbitMQ tests."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import redis

from geulpi_tasks.backup import backup, restore
from geulpi_tasks.feedback import list_feedback, parse_feedback, save_feedback
from geulpi_tasks.registry.store import download_bundle, find_version_by_alias
from geulpi_tasks.training.bootstrap import ensure_production_model

psycopg2 = pytest.importorskip("psycopg2")
SERVER = "postgresql://postgres@127.0.0.1:5432"


def _admin():  # type: ignore[no-untyped-def]
    try:
        conn = psycopg2.connect(f"{SERVER}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as err:
        pytest.skip(f"no PostgreSQL at {SERVER}: {err}")
    conn.autocommit = True
    return conn


@pytest.fixture()
def database():  # type: ignore[no-untyped-def]
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed (apt-get install -y postgresql-client)")
    name = f"geulpi_backup_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, admin
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_postgresql_registry_is_backed_up_and_restored_into_an_empty_database(database, base_settings, tmp_path):
    name, admin = database
    uri = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"  # the driver installed here (psycopg2)
    artifacts = tmp_path / "artifacts"
    client = redis.Redis.from_url(base_settings.redis_url)
    prefix = f"pg-backup-{uuid.uuid4().hex[:6]}"
    ref, _ = ensure_production_model(tracking_uri=uri, artifact_root=artifacts, model_name="event_classifier",
                                     n_samples=600, n_trees=5, seed=3)
    event = {"eventId": "e-1", "title": "dentist", "startTime": "2025-05-01T09:00:00",
             "endTime": "2025-05-01T10:00:00"}
    save_feedback(client, prefix, parse_feedback({"eventId": "e-1", "category": "HEALTH", "event": event}),
                  default_model_name="event_classifier", cache_ttl_s=60)
    archive = tmp_path / "backup.tar.gz"
    manifest = backup(archive, redis_client=client, key_prefix=prefix, tracking_uri=uri, artifact_root=artifacts)
    assert manifest["registry"] == "postgresql"

    # A disaster: the database, the artifacts and the Redis state are gone; empty stores are set up again.
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(artifacts)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    assert list_feedback(client, prefix) == []

    restore(archive, redis_client=client, key_prefix=prefix, tracking_uri=uri, artifact_root=artifacts)
    again = find_version_by_alias(uri, "event_classifier")
    assert again is not None and again.version == ref.version and again.run_id == ref.run_id
    bundle = download_bundle(uri, "event_classifier", again.version, tmp_path / "cache")
    assert (Path(bundle) / "meta.json").exists()
    assert [f["category"] for f in list_feedback(client, prefix)] == ["HEALTH"]
