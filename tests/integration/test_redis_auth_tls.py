"""Redis with a password, and Redis over TLS with a password: the whole classification path (API -> broker -> a real
inference worker -> result backend -> API), /health, and Optuna's journal storage, through ``redis://:pw@`` and
``rediss://...?ssl_ca_certs=`` URLs. Certificates are made here with the openssl CLI (a throwaway CA)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import optuna
import pytest
import redis

from api import create_app
from geulpi_tasks.tools.redis_server import (
    RedisTls,
    free_port,
    redis_reachable,
    start_redis_server,
    stop_redis_server,
    tls_url,
)
from geulpi_tasks.training.distributed import journal_storage
from tests.conftest import WorkerProcess, keyed_client

PASSWORD = "s3cret/with:odd@chars"
EVENT = {"title": "Weekly sync with the design team", "startTime": "2024-01-22T10:00:00",
         "endTime": "2024-01-22T11:00:00"}


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> RedisTls:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it (hostname checks stay on)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=geulpi-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
             "-out", "server.csr", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=folder)
    return RedisTls(cert_file=folder / "server.crt", key_file=folder / "server.key", ca_file=folder / "ca.crt")


@pytest.fixture(scope="module", params=["password", "tls"])
def secured_stack(request, base_settings, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A private redis-server (password; or TLS-only + password), an inference worker and the API on it."""
    if request.param == "tls" and shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make test certificates")
    from workers.celery_app import create_celery

    root = tmp_path_factory.mktemp(f"redis-{request.param}")
    port = free_port()
    tls = make_certificates(root) if request.param == "tls" else None
    proc = start_redis_server(port, root / "data", appendonly=False, password=PASSWORD, tls=tls)
    url = tls_url(port, tls, password=PASSWORD) if tls else f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/0"
    settings = base_settings.replace(redis_url=url, key_prefix=f"geulpi-sec-{uuid.uuid4().hex[:6]}")
    celery = create_celery(settings)
    worker = WorkerProcess("workers.inference", settings, root / "inference.log", "--concurrency", "1")
    try:
        worker.wait_ready(celery, timeout=90)
        yield request.param, settings, tls, keyed_client(create_app(settings, celery=celery))
    finally:
        worker.stop()
        celery.close()
        stop_redis_server(proc)


def test_classification_runs_through_the_secured_redis(secured_stack):
    _, _, _, client = secured_stack
    response = client.post("/v2/classify-event", json=EVENT)
    assert response.status_code == 200, response.json
    assert response.json["eventType"] == "WORK" and response.json["modelVersion"]
    accepted = client.post("/v2/classify-events?async=true", json={"events": [EVENT, EVENT]})
    assert accepted.status_code == 202
    deadline = time.monotonic() + 30
    while (status := client.get(accepted.headers["Location"]).json)["state"] != "SUCCESS":
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["state"] == "SUCCESS" and status["result"]["count"] == 2


def test_health_checks_every_part_through_the_secured_redis(secured_stack):
    _, _, _, client = secured_stack
    response = client.get("/health")
    assert response.status_code == 200, response.json
    assert all(check["ok"] for check in response.json["checks"].values())


def test_optuna_journal_storage_works_through_the_secured_redis(secured_stack):
    _, settings, _, _ = secured_stack
    name = f"sec-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(study_name=name, storage=journal_storage(settings.redis_url, settings.key_prefix))
    study.optimize(lambda trial: trial.suggest_float("x", -1, 1) ** 2, n_trials=3)
    # A second storage (as another worker would open) sees the same trials.
    again = optuna.load_study(study_name=name, storage=journal_storage(settings.redis_url, settings.key_prefix))
    assert len(again.trials) == 3


def test_wrong_password_or_plain_tcp_is_refused(secured_stack):
    kind, settings, tls, _ = secured_stack
    port = redis.Redis.from_url(settings.redis_url).connection_pool.connection_kwargs["port"]
    assert redis_reachable(settings.redis_url)
    if kind == "password":
        assert not redis_reachable(f"redis://:wrong@127.0.0.1:{port}/0")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis.from_url(f"redis://127.0.0.1:{port}/0").ping()
    else:
        assert not redis_reachable(f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/0", timeout=0.5)  # TLS only
        # Certificates are verified: a client that does not trust our CA is refused.
        assert not redis_reachable(f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required", timeout=0.5)


def test_api_state_in_redis_works_through_the_secured_redis(secured_stack):
    """Feedback, alert rules (the backend's client) and experiments (a client from the URL) all reach Redis."""
    _, _, _, client = secured_stack
    stored = client.post("/feedback", json={"eventId": f"sec-{uuid.uuid4().hex[:6]}", "category": "WORK",
                                            "event": EVENT})
    assert stored.status_code == 201, stored.json
    assert client.get("/monitoring/alerts/rules").status_code == 200
    listed = client.get("/experiments")
    assert listed.status_code == 200 and listed.json["count"] == 0
