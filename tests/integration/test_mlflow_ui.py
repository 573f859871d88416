"""scripts/start serves the MLflow UI: the launcher's own `mlflow server` command, run here on the test store, shows
the registered model, the training runs with their metrics, and their artifacts from the same artifact root."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from geulpi_tasks.settings import Settings
from geulpi_tasks.tools.redis_server import free_port
from workers.launcher import mlflow_ui_url, process_table, start_banner


def test_launcher_serves_the_mlflow_ui_on_the_local_store_beside_flower():
    settings = Settings(data_dir=Path("/srv/geulpi"), mlflow_port=5055)
    command = shlex.split(process_table(settings, "/venv/bin/python")["mlflow"])
    assert command[:2] == ["/venv/bin/mlflow", "server"]

    def option(flag: str) -> str:
        return command[command.index(flag) + 1]

    assert option("--backend-store-uri") == "sqlite:////srv/geulpi/mlflow.db"
    assert option("--default-artifact-root") == "file:///srv/geulpi/mlartifacts"
    assert option("--host") == "127.0.0.1" and option("--port") == "5055"
    banner = "\n".join(start_banner(settings, []))
    assert "Flower    http://127.0.0.1:5555" in banner and "MLflow UI http://127.0.0.1:5055" in banner
    # Limited mode still shows the runs.
    assert "mlflow" in process_table(settings.replace(disable_redis=True), "/venv/bin/python")


def test_a_tracking_server_is_its_own_ui():
    settings = Settings(mlflow_tracking_uri="http://mlflow.internal:5000/")
    assert "mlflow" not in process_table(settings, "/venv/bin/python")
    assert mlflow_ui_url(settings) == "http://mlflow.internal:5000"


@pytest.mark.slow
def test_the_ui_shows_runs_metrics_registered_versions_and_artifacts(base_settings: Settings, production_model,
                                                                    tmp_path):
    settings = base_settings.replace(mlflow_port=free_port())
    command = shlex.split(process_table(settings, sys.executable)["mlflow"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = open(tmp_path / "mlflow.log", "wb")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = mlflow_ui_url(settings)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "mlflow.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "mlflow.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        assert "<html" in requests.get(base, timeout=10).text.lower()
        api = f"{base}/api/2.0/mlflow"
        model = requests.get(f"{api}/registered-models/get", params={"name": settings.model_name}, timeout=10).json()
        assert any(a["alias"] == "production" and a["version"] == production_model
                   for a in model["registered_model"].get("aliases", []))
        version = requests.get(f"{api}/model-versions/get", params={"name": settings.model_name,
                                                                    "version": production_model}, timeout=10).json()
        run_id = version["model_version"]["run_id"]
        run = requests.get(f"{api}/runs/get", params={"run_id": run_id}, timeout=10).json()["run"]
        assert {m["key"] for m in run["data"]["metrics"]} >= {"accuracy"}
        assert run["info"]["artifact_uri"].startswith(settings.artifact_root.as_uri())
        artifacts = requests.get(f"{api}/artifacts/list", params={"run_id": run_id}, timeout=10).json()
        files = [f["path"] for f in artifacts.get("files", []) if not f["is_dir"]]
        assert files, artifacts
        shown = requests.get(f"{base}/get-artifact", params={"path": files[0], "run_uuid": run_id}, timeout=10)
        assert shown.status_code == 200 and shown.content, shown.text[:500]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        log.close()
