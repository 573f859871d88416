import re
from pathlib import Path

import pytest

from geulpi_tasks.settings import ENVIRONMENT, PROJECT_ROOT, Settings, SettingsError


def test_environment_overrides_defaults_with_types():
    settings = Settings.from_env({"REDIS_URL": "redis://h:1/2", "GEULPI_SYNC_TIMEOUT": "2.5", "DISABLE_REDIS": "true",
                                  "GEULPI_MAX_BATCH": "10", "GEULPI_DATA_DIR": "/tmp/x"})
    assert settings.redis_url == "redis://h:1/2" and settings.sync_timeout_s == 2.5
    assert settings.disable_redis is True and settings.max_batch_size == 10 and settings.data_dir == Path("/tmp/x")
    assert settings.effective_broker_url == "redis://h:1/2"
    assert settings.effective_tracking_uri == "sqlite:////tmp/x/mlflow.db"


def test_to_env_round_trips():
    settings = Settings(redis_url="redis://a:1/0", sync_timeout_s=3.0, disable_redis=True, data_dir=Path("/d"))
    assert Settings.from_env(settings.to_env()) == settings


def test_readme_documents_every_variable_exactly():
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^`]*)` \| (.*) \|$", table, flags=re.M)
    assert [(var, default, doc) for var, default, doc in rows] == [
        (var, default, doc) for var, (_attr, default, doc) in ENVIRONMENT.items()]


@pytest.mark.parametrize("var, value, allowed", [
    ("GEULPI_SYNC_TIMEOUT", "abc", "> 0, <= 3600"),
    ("GEULPI_SYNC_TIMEOUT", "-1", "> 0, <= 3600"),
    ("GEULPI_REVIEW_THRESHOLD", "7", ">= 0, <= 1"),
    ("GEULPI_MAX_BATCH", "0", ">= 1, <= 100000"),
    ("GEULPI_API_PORT", "70000", ">= 1, <= 65535"),
    ("DISABLE_REDIS", "maybe", "true or false"),
    ("GEULPI_RETRAIN_AT", "25:00", "HH:MM from 00:00 to 23:59"),
    ("GEULPI_AUTH_READS", "closed", "open or key"),
    ("OTEL_TRACES_EXPORTER", "jaeger", "otlp, none or empty"),
])
def test_a_wrong_or_out_of_range_value_names_the_variable_and_what_it_allows(var, value, allowed):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({var: value})
    message = str(info.value)
    assert f"{var}={value!r}" in message and allowed in message


def test_every_wrong_variable_is_named_at_once():
    with pytest.raises(ValueError) as info:
        Settings.from_env({"GEULPI_SYNC_TIMEOUT": "abc", "GEULPI_REVIEW_THRESHOLD": "7", "GEULPI_SEED": "1"})
    assert "GEULPI_SYNC_TIMEOUT" in str(info.value) and "GEULPI_REVIEW_THRESHOLD" in str(info.value)
    assert "GEULPI_SEED" not in str(info.value)


def test_empty_variables_count_as_unset_and_bounds_are_inclusive():
    settings = Settings.from_env({"GEULPI_SYNC_TIMEOUT": "", "GEULPI_REVIEW_THRESHOLD": "1",
                                  "GEULPI_AUTH_READS": "KEY"})
    assert settings.sync_timeout_s == 10.0 and settings.review_threshold == 1.0 and settings.auth_reads == "KEY"


def test_readme_shows_the_allowed_range():
    assert ENVIRONMENT["GEULPI_REVIEW_THRESHOLD"][2].endswith("Allowed: >= 0, <= 1.")


def test_the_api_process_refuses_to_start_on_an_out_of_range_value():
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "GEULPI_REVIEW_THRESHOLD": "7"}
    done = subprocess.run([sys.executable, "-c", "import api; api.wsgi_app()"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "GEULPI_REVIEW_THRESHOLD='7' is not valid" in done.stderr and "<= 1" in done.stderr
