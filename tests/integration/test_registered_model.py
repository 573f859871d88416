"""A registered version is a complete MLflow model: signature, input example, pinned requirements, and the code it
imports, so a fresh process loads it with mlflow.pyfunc, and `mlflow models serve` serves it as a fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import mlflow.models
import pytest
import requests

from geulpi_tasks.models.pyfunc import INPUT_EXAMPLE
from geulpi_tasks.schemas import CATEGORIES
from geulpi_tasks.settings import Settings
from geulpi_tasks.tools.redis_server import free_port

LOAD_SCRIPT = """
import json, sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model(sys.argv[2])
example = model.input_example
out = model.predict(example)
print(json.dumps({"columns": list(out.columns), "rows": out.to_dict("records"),
                  "inputs": [c["name"] for c in model.metadata.get_input_schema().to_dict()]}))
"""


def _fresh_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEULPI_", "MLFLOW_", "PYTHON"))}
    env["MLFLOW_TRACKING_URI"] = settings.effective_tracking_uri
    # As in an activated venv: `mlflow models serve` starts the venv's uvicorn by name.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_registered_version_carries_signature_input_example_and_pinned_requirements(base_settings,
                                                                                    production_model):
    uri = f"models:/{base_settings.model_name}/{production_model}"
    mlflow.set_tracking_uri(base_settings.effective_tracking_uri)
    info = mlflow.models.get_model_info(uri)
    assert info.signature is not None
    inputs = {col["name"]: col.get("required", True) for col in info.signature.inputs.to_dict()}
    assert inputs == {"title": True, "startTime": True, "endTime": True, "description": False, "location": False,
                      "attendees": False}
    assert [col["name"] for col in info.signature.outputs.to_dict()] == list(CATEGORIES)
    assert info.saved_input_example_info is not None
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri,
                                                     tracking_uri=base_settings.effective_tracking_uri))
    requirements = [line for line in (local / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    names = {line.split("==")[0] for line in requirements}
    assert {"mlflow", "scikit-learn", "onnxruntime", "pandas"} <= names
    assert all("==" in line for line in requirements), requirements
    assert (local / "code" / "geulpi_tasks" / "models" / "pyfunc.py").exists()


def test_fresh_process_loads_a_registered_version_through_pyfunc(base_settings, production_model, tmp_path):
    uri = f"models:/{base_settings.model_name}/{production_model}"
    done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, base_settings.effective_tracking_uri, uri],
                          cwd=tmp_path, env=_fresh_env(base_settings), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["columns"] == list(CATEGORIES)
    assert answer["inputs"][:3] == ["title", "startTime", "endTime"]
    (row,) = answer["rows"]
    assert abs(sum(row.values()) - 1.0) < 1e-6
    assert max(row, key=row.get) == "WORK"  # the example is a team standup


@pytest.mark.slow
def test_mlflow_models_serve_answers_with_a_registered_version(base_settings, production_model, tmp_path):
    port = free_port()
    uri = f"models:/{base_settings.model_name}/{production_model}"
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([str(mlflow_cli), "models", "serve", "-m", uri, "--env-manager", "local", "-h",
                               "127.0.0.1", "-p", str(port), "-w", "1"], cwd=tmp_path, env=_fresh_env(base_settings),
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        # Optional columns may be left out, but a column that is sent needs a value in every record.
        events = [INPUT_EXAMPLE, {"title": "Dentist appointment", "startTime": "2024-01-22T15:00:00",
                                  "endTime": "2024-01-22T16:00:00", "description": "", "location": "",
                                  "attendees": []}]
        answer = requests.post(f"http://127.0.0.1:{port}/invocations", json={"dataframe_records": events}, timeout=30)
        assert answer.status_code == 200, answer.text
        predictions = answer.json()["predictions"]
        assert len(predictions) == 2 and set(predictions[0]) == set(CATEGORIES)
        assert max(predictions[0], key=predictions[0].get) == "WORK"
        assert max(predictions[1], key=predictions[1].get) == "HEALTH"
        # An event without its required field is refused by the signature, not answered with a guess.
        refused = requests.post(f"http://127.0.0.1:{port}/invocations",
                                json={"dataframe_records": [{"title": "No times"}]}, timeout=30)
        assert refused.status_code == 400, refused.text
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        log.close()
