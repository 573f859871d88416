import re
from pathlib import Path

from geulpi_tasks.settings import ENVIRONMENT, PROJECT_ROOT, Settings


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
