"""Shared fixtures: a throwaway real redis-server, a real MLflow store in a temp folder with a small trained
model in production, and real Celery workers started as subprocesses on our own app.

Nothing here touches a user's data: Redis is a private server on a free port, MLflow lives in a temp folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from geulpi_tasks.settings import PROJECT_ROOT, Settings
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server

TEST_SAMPLES = 4000
TEST_TREES = 40
# The API key every test app accepts (base_settings.api_keys); `client` and `keyed_client` send it.
TEST_API_KEY = f"test-key-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    proc = start_redis_server(port, tmp_path_factory.mktemp("redis"), appendonly=True)
    yield f"redis://127.0.0.1:{port}/0"
    stop_redis_server(proc)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, redis_server: str) -> Settings:
    data_dir = tmp_path_factory.mktemp("geulpi-data")
    return Settings(data_dir=data_dir, redis_url=redis_server,
                    mlflow_tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}",
                    bootstrap_samples=TEST_SAMPLES, bootstrap_trees=TEST_TREES, model_poll_interval_s=0.5,
                    sync_timeout_s=10.0, key_prefix=f"geulpi-test-{uuid.uuid4().hex[:6]}", api_keys=TEST_API_KEY,
                    # Flower tests look for one given classification: every task's events, not a 1% sample.
                    inference_events_share=1.0)


@pytest.fixture(scope="session")
def production_model(base_settings: Settings) -> str:
    """Train (small) and promote the first model in the temp registry; returns its version."""
    from geulpi_tasks.training.bootstrap import ensure_production_model

    ref, _ = ensure_production_model(tracking_uri=base_settings.effective_tracking_uri,
                                     artifact_root=base_settings.artifact_root, model_name=base_settings.model_name,
                                     n_samples=TEST_SAMPLES, n_trees=TEST_TREES, seed=base_settings.seed)
    return ref.version


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_"))}
    env.update(settings.to_env())
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    # Every process of one run shares one prometheus-client multiprocess directory (never the pytest process's).
    env["PROMETHEUS_MULTIPROC_DIR"] = str(settings.effective_metrics_dir)
    return env


class WorkerProcess:
    """A real Celery worker in a subprocess, started with the project's own worker command."""

    def __init__(self, module: str, settings: Settings, log_path: Path, *extra: str):
        self.name = f"{module.rsplit('.', 1)[-1]}@test-{uuid.uuid4().hex[:8]}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", module, "-n", self.name, *extra], cwd=PROJECT_ROOT,
                                     env=child_env(settings), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, celery: object, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            replies = celery.control.ping(timeout=0.5, destination=[self.name])  # type: ignore[attr-defined]
            if replies:
                return
        raise RuntimeError(f"worker not ready in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="session")
def celery_client(base_settings: Settings):  # type: ignore[no-untyped-def]
    from workers.celery_app import create_celery

    return create_celery(base_settings)


@pytest.fixture(scope="session")
def inference_worker(base_settings: Settings, production_model: str, celery_client, tmp_path_factory):  # type: ignore[no-untyped-def]
    worker = WorkerProcess("workers.inference", base_settings, tmp_path_factory.mktemp("logs") / "inference.log",
                           "--concurrency", "2")
    worker.wait_ready(celery_client)
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def api_app(base_settings: Settings, celery_client):  # type: ignore[no-untyped-def]
    from api import create_app

    return create_app(base_settings, celery=celery_client)


def keyed_client(app):  # type: ignore[no-untyped-def]
    """A Flask test client that sends ``Authorization: Bearer <TEST_API_KEY>`` with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TEST_API_KEY}"
    return client


def wait_task(client, location: str, timeout: float = 90.0) -> dict:  # type: ignore[no-untyped-def]
    """Poll a task's status URL (``Location`` of a 202) until it is ready; its final body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(location).json
        if body["ready"]:
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"task {location} not finished in {timeout} s")


@pytest.fixture()
def client(api_app):  # type: ignore[no-untyped-def]
    return keyed_client(api_app)
