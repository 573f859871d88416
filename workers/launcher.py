"""Start the whole system on one machine: Redis (if none answers), the first model, API, workers, Beat, Flower.

``scripts/start`` runs this after installing. Ctrl-C stops every process it started, Redis included.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from geulpi_tasks.redis_server import is_local, redis_reachable, start_redis_server, stop_redis_server
from geulpi_tasks.registry.bootstrap import ensure_production_model
from geulpi_tasks.settings import Settings

log = logging.getLogger("geulpi.launcher")


def process_table(settings: Settings, python: str) -> dict[str, str]:
    """Name -> command of every long-running process (the Procfile, in code)."""
    bin_dir = Path(python).parent
    if settings.disable_redis:
        return {"api": f"{bin_dir / 'gunicorn'} -b 0.0.0.0:{settings.api_port} -w 1 -k gthread --threads 4 "
                       "--timeout 120 'api:wsgi_app()'"}
    return {
        "api": f"{bin_dir / 'gunicorn'} -b 0.0.0.0:{settings.api_port} -w 2 -k gthread --threads 8 "
               "--timeout 60 'api:wsgi_app()'",
        "inference": f"{python} -m workers.inference",
        "training": f"{python} -m workers.training",
        "monitoring": f"{python} -m workers.monitoring",
        "beat": f"{python} -m workers.beat",
        "flower": f"{bin_dir / 'celery'} -A workers.celery_app flower --port={settings.flower_port}",
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redis_proc = None
    if not settings.disable_redis and not redis_reachable(settings.redis_url):
        if not is_local(settings.redis_url):
            log.error("Redis at %s does not answer; start it or point REDIS_URL elsewhere.", settings.redis_url)
            return 1
        url = urlparse(settings.redis_url)
        log.info("no Redis at %s: starting redis-server with AOF under %s", settings.redis_url,
                 settings.data_dir / "redis")
        redis_proc = start_redis_server(url.port or 6379, settings.data_dir / "redis", appendonly=True,
                                        password=url.password)
    try:
        ref, trained = ensure_production_model(
            tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
            model_name=settings.model_name, n_samples=settings.bootstrap_samples, n_trees=settings.bootstrap_trees,
            seed=settings.seed)
        log.info("%s model '%s' version %s is in production", "trained" if trained else "found", ref.name,
                 ref.version)
        from honcho.manager import Manager
        from honcho.printer import Printer

        manager = Manager(Printer(sys.stdout))
        env = {**os.environ, "GEULPI_DATA_DIR": str(settings.data_dir.resolve()),
               "MLFLOW_TRACKING_URI": settings.effective_tracking_uri, "PYTHONUNBUFFERED": "1"}
        # One prometheus-client multiprocess directory per run, emptied so counts start from this start-up.
        from geulpi_tasks.monitoring.metrics import configure_metrics_dir

        env["PROMETHEUS_MULTIPROC_DIR"] = str(configure_metrics_dir(settings.effective_metrics_dir, wipe=True))
        for name, cmd in process_table(settings, sys.executable).items():
            manager.add_process(name, cmd, env=env)
        print(f"\n  API       http://127.0.0.1:{settings.api_port}  (health: /health, docs: /openapi.json)")
        if not settings.disable_redis:
            print(f"  Flower    http://127.0.0.1:{settings.flower_port}")
        print(f"  MLflow    {settings.effective_tracking_uri}\n  Ctrl-C stops everything.\n", flush=True)
        manager.loop()
        return int(manager.returncode or 0)
    finally:
        if redis_proc is not None:
            stop_redis_server(redis_proc)


if __name__ == "__main__":
    sys.exit(main())
