"""Settings are built by whoever starts a process, never when a module is imported."""

from __future__ import annotations

import os
import subprocess
import sys

from geulpi_tasks.settings import PROJECT_ROOT

SCRIPT = """
import importlib, pkgutil
import api, geulpi_tasks, workers
import beat_schedule, celeryconfig
for pkg in (geulpi_tasks, api, workers):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if info.name.endswith("__main__") or info.name == "workers.celery_cli":
            continue
        importlib.import_module(info.name)
from api import create_app
from geulpi_tasks.settings import Settings
app = create_app(Settings(disable_redis=True))
print("ok", app.extensions["geulpi"].settings.sync_timeout_s)
"""


def _run(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEULPI_")}
    env.update(env_extra, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_importing_every_module_reads_no_setting_from_the_environment():
    # A broken value in the environment must not matter to a process that passes its own Settings.
    done = _run({"GEULPI_SYNC_TIMEOUT": "abc", "GEULPI_RETRAIN_AT": "not-a-time"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["ok", str(10.0)]


def test_the_celery_command_entry_builds_settings_from_the_environment():
    # workers.celery_cli is the start of a `celery` process: its app reads the environment when the command first
    # asks for its configuration (not at import), and a bad value shows then, naming the variable.
    code = "import workers.celery_cli as c; print('imported', flush=True); c.app.conf.broker_url"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEULPI_")}
    env.update(GEULPI_SYNC_TIMEOUT="abc", PYTHONPATH=str(PROJECT_ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.strip() == "imported"
    assert done.returncode != 0 and "GEULPI_SYNC_TIMEOUT" in done.stderr
