"""Start the whole system on one machine: Redis (if none answers), the first model, API, workers, Beat, Flower and
the MLflow UI.

``scripts/start`` (``geulpi start``) runs this after installing. Ctrl-C stops every process it started, Redis included.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from honcho.manager import Manager
from honcho.printer import Printer

from geulpi_tasks.monitoring.metrics import configure_metrics_dir
from geulpi_tasks.redis_urls import redacted_url
from geulpi_tasks.settings import PROJECT_ROOT, Settings
from geulpi_tasks.tools.credentials import (
    API_KEY_FILE,
    FLOWER_AUTH_FILE,
    load_or_create_secret,
    new_api_key,
    new_flower_auth,
)
from geulpi_tasks.tools.redis_server import (
    is_local,
    redis_reachable,
    start_redis_server,
    stop_redis_server,
)
from geulpi_tasks.training.bootstrap import ensure_production_model

log = logging.getLogger("geulpi.launcher")
GUNICORN_CONF = PROJECT_ROOT / "api" / "gunicorn_conf.py"


def is_remote_tracking(settings: Settings) -> bool:
    return settings.effective_tracking_uri.startswith(("http://", "https://"))


def mlflow_ui_url(settings: Settings) -> str:
    """Where the MLflow UI is: the tracking server itself, or the one the launcher serves on the local store."""
    if is_remote_tracking(settings):
        return settings.effective_tracking_uri.rstrip("/")
    return f"http://127.0.0.1:{settings.mlflow_port}"


def mlflow_ui_command(settings: Settings, bin_dir: Path) -> str | None:
    """``mlflow server`` on the local SQLite store and the same artifact root the jobs log to (None when a tracking
    server already serves the UI). Loopback only: the UI has no login. One worker: it is for people, not traffic."""
    if is_remote_tracking(settings):
        return None
    return (f"{bin_dir / 'mlflow'} server --backend-store-uri {shlex.quote(settings.effective_tracking_uri)} "
            f"--default-artifact-root {shlex.quote(settings.artifact_root.as_uri())} --no-serve-artifacts "
            f"--host 127.0.0.1 --port {settings.mlflow_port} --workers 1")


def process_table(settings: Settings, python: str) -> dict[str, str]:
    """Name -> command of every long-running process (the Procfile, in code)."""
    bin_dir = Path(python).parent
    ui = mlflow_ui_command(settings, bin_dir)
    mlflow_ui = {"mlflow": ui} if ui else {}
    # Access log on and every line JSON (api/gunicorn_conf.py).
    gunicorn = f"{bin_dir / 'gunicorn'} -c {GUNICORN_CONF} -b {settings.api_host}:{settings.api_port}"
    if settings.disable_redis:
        return {"api": f"{gunicorn} -w 1 -k gthread --threads 4 --timeout 120 'api:wsgi_app()'", **mlflow_ui}
    return {
        "api": f"{gunicorn} -w 2 -k gthread --threads 8 --timeout 60 'api:wsgi_app()'",
        "inference": f"{python} -m workers.inference",
        "training": f"{python} -m workers.training",
        "monitoring": f"{python} -m workers.monitoring",
        "beat": f"{python} -m workers.beat",
        "flower": f"{bin_dir / 'celery'} -A workers.celery_cli flower --port={settings.flower_port}",
        **mlflow_ui,
    }


def security_env(settings: Settings) -> tuple[dict[str, str], list[str]]:
    """API key and Flower credentials for the processes (generated once into the data folder when not configured),
    and the lines to print so the user can call the API and open Flower."""
    env: dict[str, str] = {}
    lines: list[str] = []
    if settings.api_key_list:
        lines.append("  API key   from GEULPI_API_KEYS")
    else:
        key, created = load_or_create_secret(settings.data_dir / API_KEY_FILE, new_api_key)
        env["GEULPI_API_KEYS"] = key
        lines.append(f"  API key   {key}  ({'generated into' if created else 'from'} "
                     f"{settings.data_dir / API_KEY_FILE}; send 'Authorization: Bearer <key>')")
    if not settings.disable_redis:
        if settings.flower_basic_auth:
            lines.append("  Flower    basic auth from FLOWER_BASIC_AUTH")
        else:
            auth, created = load_or_create_secret(settings.data_dir / FLOWER_AUTH_FILE, new_flower_auth)
            env["FLOWER_BASIC_AUTH"] = auth
            lines.append(f"  Flower    login {auth}  ({'generated into' if created else 'from'} "
                         f"{settings.data_dir / FLOWER_AUTH_FILE})")
    return env, lines


def start_banner(settings: Settings, secret_lines: list[str]) -> list[str]:
    """What the launcher prints once everything is started: where to look, and with which credentials."""
    lines = [f"  API       http://{settings.api_host}:{settings.api_port}  (health: /health, docs: /docs; "
             "GEULPI_API_HOST=0.0.0.0 exposes it to the network)"]
    if not settings.disable_redis:
        lines.append(f"  Flower    http://127.0.0.1:{settings.flower_port}  (workers, queues, tasks live)")
    lines.append(f"  MLflow UI {mlflow_ui_url(settings)}  (training runs, metrics, Pareto fronts, registered versions;"
                 f" store {settings.effective_tracking_uri})")
    return [*lines, *secret_lines, "  Ctrl-C stops everything."]


def process_env(name: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of one process. Flower keeps its own /metrics: in our shared multiprocess directory its
    per-worker series would be merged into the API's scrape under labels we never promise."""
    if name == "flower":
        return {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    return env


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redis_proc = None
    if not settings.disable_redis and not redis_reachable(settings.redis_url):
        if not is_local(settings.redis_url):
            log.error("Redis at %s does not answer; start it or point REDIS_URL elsewhere.",
                      redacted_url(settings.redis_url))
            return 1
        url = urlparse(settings.redis_url)
        if url.scheme == "rediss":
            log.error("TLS Redis at %s does not answer; the launcher starts only plain local Redis, so start your "
                      "TLS server first.", redacted_url(settings.redis_url))
            return 1
        log.info("no Redis at %s: starting redis-server with AOF under %s", redacted_url(settings.redis_url),
                 settings.data_dir / "redis")
        redis_proc = start_redis_server(url.port or 6379, settings.data_dir / "redis", appendonly=True,
                                        password=unquote(url.password) if url.password else None)
    try:
        ref, trained = ensure_production_model(
            tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
            model_name=settings.model_name, n_samples=settings.bootstrap_samples, n_trees=settings.bootstrap_trees,
            seed=settings.seed)
        log.info("%s model '%s' version %s is in production", "trained" if trained else "found", ref.name,
                 ref.version)

        manager = Manager(Printer(sys.stdout))
        env = {**os.environ, "GEULPI_DATA_DIR": str(settings.data_dir.resolve()),
               "MLFLOW_TRACKING_URI": settings.effective_tracking_uri, "PYTHONUNBUFFERED": "1"}
        # One prometheus-client multiprocess directory per run, emptied so counts start from this start-up.

        env["PROMETHEUS_MULTIPROC_DIR"] = str(configure_metrics_dir(settings.effective_metrics_dir, wipe=True))
        secret_env, secret_lines = security_env(settings)
        env.update(secret_env)
        for name, cmd in process_table(settings, sys.executable).items():
            manager.add_process(name, cmd, env=process_env(name, env))
        print("\n" + "\n".join(start_banner(settings, secret_lines)) + "\n", flush=True)
        manager.loop()
        return int(manager.returncode or 0)
    finally:
        if redis_proc is not None:
            stop_redis_server(redis_proc)


if __name__ == "__main__":
    sys.exit(main())
