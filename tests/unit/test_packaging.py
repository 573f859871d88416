"""The project is packaged like a service people depend on: pyproject.toml holds metadata, dependencies and tool
configuration; the lock files pin everything with hashes and agree with it; the `geulpi` command is installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import geulpi_tasks
from geulpi_tasks.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
GEULPI = Path(sys.executable).parent / "geulpi"


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every requirement in a pip-compile lock file; asserts each carries hashes."""
    text = (path).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1] if text.startswith("#") else text)
    pins: dict[str, str] = {}
    for entry in entries:
        first = entry.strip().splitlines()[0] if entry.strip() else ""
        if not first or first.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", first)
        assert match, f"{path.name}: not pinned: {first}"
        assert "--hash=sha256:" in entry, f"{path.name}: {first} has no hash"
        pins[_normal(match.group(1))] = match.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _direct(requirements: list[str]) -> dict[str, str]:
    direct = {}
    for requirement in requirements:
        name, version = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)$", requirement).groups()  # type: ignore[union-attr]
        direct[_normal(name)] = version
    return direct


def test_pyproject_is_the_one_home_of_metadata_and_tool_configuration():
    project = PYPROJECT["project"]
    assert project["name"] == "geulpi-tasks" and project["requires-python"] == ">=3.11"
    assert project["scripts"] == {"geulpi": "geulpi_tasks.cli:main"}
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "geulpi_tasks.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", geulpi_tasks.__version__)
    assert {"ruff", "mypy", "pytest"} <= set(PYPROJECT["tool"])
    for old in ("ruff.toml", "mypy.ini", "pytest.ini", "setup.cfg", "setup.py", ".ruff.toml"):
        assert not (PROJECT_ROOT / old).exists(), f"{old}: tool configuration belongs in pyproject.toml"


def test_lock_files_pin_everything_with_hashes_and_agree_with_pyproject():
    runtime, dev = _pins(PROJECT_ROOT / "requirements.txt"), _pins(PROJECT_ROOT / "requirements-dev.txt")
    direct = _direct(PYPROJECT["project"]["dependencies"])
    dev_direct = _direct(PYPROJECT["project"]["optional-dependencies"]["dev"])
    assert direct["mlflow"] == "3.17.2"  # 3.18.0 cannot be installed here
    assert {name: runtime.get(name) for name in direct} == direct, "requirements.txt is stale: run scripts/lock"
    assert {name: dev.get(name) for name in dev_direct} == dev_direct, "requirements-dev.txt is stale: scripts/lock"
    # The dev lock is the runtime lock plus the dev tools: never another version of a runtime package.
    assert {name: dev[name] for name in runtime} == runtime


def test_install_scripts_install_the_locks_with_hashes_and_the_project():
    env_sh = (PROJECT_ROOT / "scripts" / "_env.sh").read_text()
    assert 'pip install --quiet --require-hashes -r "$req"' in env_sh
    assert "pip install --quiet --no-deps -e ." in env_sh
    assert "pyproject.toml" in env_sh  # a dependency change reinstalls
    assert 'exec "$VENV/bin/geulpi" start' in (PROJECT_ROOT / "scripts" / "start").read_text()
    assert "ensure_venv requirements-dev.txt" in (PROJECT_ROOT / "scripts" / "test").read_text()
    assert "--require-hashes" in (PROJECT_ROOT / "Dockerfile").read_text()


def test_the_geulpi_command_is_installed_and_answers():
    version = subprocess.run([str(GEULPI), "version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr[-2000:]
    assert version.stdout.strip() == f"geulpi-tasks {geulpi_tasks.__version__}"
    helped = subprocess.run([str(GEULPI), "--help"], capture_output=True, text=True, timeout=120)
    assert all(word in helped.stdout for word in ("start", "models", "simulate", "version")), helped.stdout
    models = subprocess.run([str(GEULPI), "models", "--help"], capture_output=True, text=True, timeout=120)
    assert all(word in models.stdout for word in ("list", "promote", "rollback", "compare", "train"))


def test_geulpi_start_runs_the_launcher(tmp_path):
    # A setting that does not parse stops the launcher at once, before it starts anything; its traceback shows
    # that `geulpi start` became `python -m workers.launcher`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEULPI_")}
    env.update(GEULPI_DATA_DIR=str(tmp_path), GEULPI_SYNC_TIMEOUT="soon")
    done = subprocess.run([str(GEULPI), "start"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert "workers/launcher.py" in done.stderr and "GEULPI_SYNC_TIMEOUT='soon' is not valid" in done.stderr
