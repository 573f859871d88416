"""The deployment files hold together: docker-compose.yml starts real entry points with the volumes and secrets they
need, Prometheus's config and the dashboard's queries parse (promtool, when installed), and every metric the
dashboard and the alert rules name is one our /monitoring/metrics (or Flower's /metrics) really exports.

No Docker engine is needed: the compose file is read as YAML, and `docker-compose config` (Debian's v1) validates
it when installed.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from geulpi_tasks.settings import ENVIRONMENT, PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DEPLOY = PROJECT_ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
RULES = DEPLOY / "prometheus" / "rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "geulpi.json"
IMAGE = "geulpi-tasks:latest"
PROMTOOL = shutil.which("promtool")
DOCKER_COMPOSE = shutil.which("docker-compose")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install -y prometheus)")
# Series Prometheus makes itself, not any exporter.
PROMETHEUS_BUILTINS = {"ALERTS", "ALERTS_FOR_STATE", "up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def _geulpi(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("image") == IMAGE}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> volume name or host path."""
    out = {}
    for spec in service.get("volumes", []):
        source, target = spec.split(":")[:2]
        out[target] = source
    return out


def _assert_module(name: str) -> None:
    assert importlib.util.find_spec(name) is not None, f"no module {name}"


def test_geulpi_services_start_real_entry_points(services):
    checked = set()
    for name, service in _geulpi(services).items():
        cmd = _command(service)
        if cmd[:2] == ["python", "-m"]:
            _assert_module(cmd[2])
        elif cmd[:2] == ["python", "-c"]:
            compile(cmd[2], f"<{name}>", "exec")
            for module, attr in re.findall(r"from ([\w.]+) import (\w+)", cmd[2]):
                assert hasattr(importlib.import_module(module), attr), (name, module, attr)
        elif cmd[0] == "celery":
            _assert_module(cmd[cmd.index("-A") + 1])
        elif cmd[0] == "gunicorn":
            module, factory = cmd[-1].removesuffix("()").split(":")
            assert callable(getattr(importlib.import_module(module), factory)), name
        elif cmd[:2] == ["mlflow", "server"]:
            assert (Path(sys.executable).parent / "mlflow").exists()
        else:
            pytest.fail(f"{name}: unrecognised command {cmd}")
        checked.add(name)
    assert {"api", "inference", "training", "monitoring", "beat", "flower", "mlflow", "bootstrap"} <= checked


def test_every_geulpi_process_exports_traces_to_the_jaeger_service(services):
    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:") and not jaeger["image"].endswith(":latest")
    assert str(jaeger["environment"]["COLLECTOR_OTLP_ENABLED"]).lower() == "true"
    assert [p for p in jaeger["ports"] if p.endswith(":16686")] == ["127.0.0.1:16686:16686"]  # no login: host only
    assert jaeger["healthcheck"]
    for name, service in _geulpi(services).items():
        if name == "mlflow":
            continue
        assert service["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318", name


def test_api_writes_json_access_logs(services):
    cmd = _command(services["api"])
    config = cmd[cmd.index("-c") + 1]
    assert (PROJECT_ROOT / config).is_file()
    namespace: dict[str, Any] = {}
    exec(compile((PROJECT_ROOT / config).read_text(), config, "exec"), namespace)
    assert namespace["accesslog"] == "-"
    assert namespace["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["access"]


def test_one_beat_and_inference_scales(services):
    beats = [n for n, s in _geulpi(services).items() if "workers.beat" in _command(s)]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    for scalable in ("inference", "training"):
        service = services[scalable]
        # --scale N needs containers without a fixed name or host port.
        assert "container_name" not in service and "ports" not in service and "hostname" not in service


def test_metrics_directory_is_one_volume_shared_by_api_and_workers(services):
    writers = {"api", "inference", "training", "monitoring"}
    volumes = set()
    for name in writers:
        env = services[name]["environment"]
        directory = env["PROMETHEUS_MULTIPROC_DIR"]
        volumes.add(_mounts(services[name]).get(directory))
    assert len(volumes) == 1 and None not in volumes, volumes
    # Processes that are not merged (Flower has its own /metrics) must not write into it with colliding pids.
    for name, service in _geulpi(services).items():
        env = service.get("environment", {})
        if "PROMETHEUS_MULTIPROC_DIR" in env:
            assert name in writers, name
            assert _mounts(service).get(env["PROMETHEUS_MULTIPROC_DIR"]) in volumes


def test_redis_keeps_an_append_only_file_and_needs_a_password(services):
    cmd = _command(services["redis"])
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert "--requirepass" in cmd
    assert services["redis"]["healthcheck"]
    assert "redis-data" in _mounts(services["redis"]).values()


def test_mlflow_uses_postgres_and_serves_artifacts_from_its_volume(services):
    cmd = " ".join(_command(services["mlflow"]))
    assert "--backend-store-uri=postgresql+psycopg2://" in cmd and "@postgres:5432/" in cmd
    assert "--serve-artifacts" in cmd
    destination = re.search(r"--artifacts-destination=(\S+)", cmd).group(1)  # type: ignore[union-attr]
    assert _mounts(services["mlflow"])[destination] == "mlflow-artifacts"
    assert "mlflow:5000" in cmd  # Host header the workers send must be allowed
    for name, service in _geulpi(services).items():
        if name != "mlflow":
            assert service["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000", name


def test_secrets_are_required_never_defaulted(services):
    api_env = services["api"]["environment"]
    assert api_env["GEULPI_API_KEYS"].startswith("${GEULPI_API_KEYS:?")
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_geulpi_environment_names_are_real_settings(services):
    for name, service in _geulpi(services).items():
        if name == "mlflow":
            continue
        for var in service.get("environment", {}):
            assert var in ENVIRONMENT, f"{name}: {var} is not a setting in geulpi_tasks/settings.py"


def test_dockerfile_runs_as_non_root_with_pinned_psycopg2():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"psycopg2-binary==\d+\.\d+\.\d+", dockerfile)
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".git"} <= set(ignored)


@pytest.mark.skipif(DOCKER_COMPOSE is None, reason="docker-compose not installed (apt-get install -y docker-compose)")
def test_docker_compose_config_validates(tmp_path):
    make_env = subprocess.run([sys.executable, str(DEPLOY / "make_env.py")], capture_output=True, text=True,
                              check=True).stdout
    env_file = tmp_path / ".env"
    env_file.write_text(make_env)
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_PASSWORD", "POSTGRES_PASSWORD", "GEULPI_API_KEYS",
                                                              "FLOWER_BASIC_AUTH", "GRAFANA_ADMIN_PASSWORD"}}
    args = [DOCKER_COMPOSE, "--project-directory", str(PROJECT_ROOT), "-f", str(COMPOSE_FILE)]
    ok = subprocess.run([*args, "--env-file", str(env_file), "config", "-q"], capture_output=True, text=True,
                        env=clean)
    assert ok.returncode == 0, ok.stderr
    # The template left unfilled is refused, naming the missing secret.
    refused = subprocess.run([*args, "--env-file", str(DEPLOY / "env.example"), "config", "-q"], capture_output=True,
                             text=True, env=clean)
    assert refused.returncode != 0 and "REDIS_PASSWORD" in refused.stderr


@needs_promtool
def test_promtool_accepts_the_prometheus_config():
    check = subprocess.run([PROMTOOL, "check", "config", str(PROMETHEUS_CONFIG)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "rule files found" in check.stdout + check.stderr


def test_prometheus_scrapes_real_services_and_routes(services, api_app):
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    assert config["rule_files"] == ["rules.yml"]
    mounted = _mounts(services["prometheus"])
    assert mounted["/etc/prometheus"].rstrip("/").endswith("deploy/prometheus")
    routes = {rule.rule for rule in api_app.url_map.iter_rules()}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api_job, flower_job = jobs["geulpi-api"], jobs["flower"]
    assert api_job["metrics_path"] in routes
    assert api_job["static_configs"][0]["targets"] == ["api:8001"] and "0.0.0.0:8001" in _command(services["api"])
    assert flower_job["static_configs"][0]["targets"] == ["flower:5555"]
    assert "--port=5555" in _command(services["flower"])


def test_grafana_provisioning_points_at_the_dashboard(services):
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/geulpi.yml").read_text())
    mounts = _mounts(services["grafana"])
    assert mounts[provider["providers"][0]["options"]["path"]].rstrip("/").endswith("deploy/grafana/dashboards")
    assert mounts["/etc/grafana/provisioning"].rstrip("/").endswith("deploy/grafana/provisioning")
    dashboard = json.loads(DASHBOARD.read_text())
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ("predictions", "latency", "drift", "alerts", "queue depth"):
        assert topic in titles, topic
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == uid, panel["title"]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (label matchers, ranges, grouping and functions removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("(") or match.group() in PROMQL_WORDS:
            continue  # a function or a keyword
        names.add(match.group())
    return names


def test_metric_name_extraction():
    assert metric_names('histogram_quantile(0.99, sum by (le, stage) (rate(x_bucket{a="b(c)"}[5m])))') == {"x_bucket"}
    assert metric_names("a:b:rate5m * 1000 > 100 or vector(0)") == {"a:b:rate5m"}


@needs_promtool
def test_dashboard_queries_parse(tmp_path):
    # promtool parses PromQL in rule files; Grafana's $variables become a match-all regex first.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$model", ".*")}
        for i, expr in enumerate(_dashboard_exprs())]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    check = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _series_names(name: str, kind: str) -> set[str]:
    base = name.removesuffix("_total")
    if kind == "counter":
        return {base + "_total"}
    if kind == "histogram":
        return {base + "_bucket", base + "_sum", base + "_count"}
    return {name}


def _flower_names() -> set[str]:
    import flower.events

    source = inspect.getsource(flower.events.PrometheusMetrics)
    found = re.findall(r"(Counter|Histogram|Gauge)\(\s*'(\w+)'", source)
    kinds = {"Counter": "counter", "Histogram": "histogram", "Gauge": "gauge"}
    return {series for cls, name in found for series in _series_names(name, kinds[cls])}


def test_every_metric_the_dashboard_and_rules_use_is_exported(client):
    from geulpi_tasks.monitoring.metrics import instruments

    scrape = client.get("/monitoring/metrics")
    assert scrape.status_code == 200
    exported = set()
    for family in text_string_to_metric_families(scrape.get_data(as_text=True)):
        exported |= _series_names(family.name, family.type) | {s.name for s in family.samples}
    # Counters and histograms appear in a scrape only once observed; the objects name them either way.
    for metric in vars(instruments()).values():
        for family in metric.describe():
            exported |= _series_names(family.name, family.type)
    assert {"geulpi_queue_depth", "ml_drift_score", "ml_model_accuracy", "ml_predictions_total"} <= exported
    flower = _flower_names()
    assert "flower_worker_online" in flower
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    known = exported | flower | recorded | PROMETHEUS_BUILTINS
    used = {name for expr in _dashboard_exprs() + [rule["expr"] for rule in _rules()] for name in metric_names(expr)}
    assert used - known == set()
    assert {"geulpi_queue_depth", "ml_drift_score", "ALERTS", "flower_worker_online"} <= used


_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from geulpi_tasks.monitoring.metrics import configure_metrics_dir, instruments
    configure_metrics_dir(Path(sys.argv[1]))
    counter = instruments().predictions.labels("deploy-test", "1", "success")
    counter.inc(int(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()
    counter.inc(1)
""")


def _container(hostname: str, metrics_dir: Path, amount: int) -> subprocess.Popen[str]:
    """A process in its own pid and UTS namespace: pid 1 on host ``hostname``, like a container's main process."""
    script = f"hostname {hostname} && exec {shlex.quote(sys.executable)} -c {shlex.quote(_WRITER)} " \
             f"{shlex.quote(str(metrics_dir))} {amount}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    return subprocess.Popen(["unshare", "--uts", "--pid", "--fork", "--mount-proc", "sh", "-c", script],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--uts", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare(1) to start processes in their own namespaces")
def test_two_containers_with_the_same_pid_keep_separate_metrics_files(tmp_path):
    """Containers share the metrics volume and each numbers its processes from 1; counts must still add up."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    first = _container("geulpi-c1", tmp_path, 3)
    assert first.stdout is not None and first.stdout.readline().strip() == "ready"
    second = _container("geulpi-c2", tmp_path, 4)  # opens its file while the first still has its own open
    assert second.stdout is not None and second.stdout.readline().strip() == "ready"
    for proc in (second, first):
        proc.communicate("go\n", timeout=30)
        assert proc.returncode == 0
    assert sorted(p.name for p in tmp_path.glob("counter_*.db")) == ["counter_geulpi-c1-1.db",
                                                                      "counter_geulpi-c2-1.db"]
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    text = generate_latest(registry).decode()
    assert 'ml_predictions_total{model_name="deploy-test",model_version="1",status="success"} 9.0' in text
