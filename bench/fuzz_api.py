"""Fuzz the API from its own OpenAPI document with schemathesis (issue 7, fault tests), against the real stack.

One run brings up a throwaway redis-server, MLflow on SQLite with a small trained model in production, a real
inference worker and the API under gunicorn, then runs ``schemathesis run`` (the CLI, in a subprocess) with these
checks on every response: no 5xx, status code documented, content type documented, documented headers present,
body valid against the documented schema, and schema-invalid requests rejected with a 4xx. Not checked: that every
schema-valid request succeeds (a valid body can still contradict itself, e.g. endTime before startTime: a documented
422), and the stateful checks (they need OpenAPI links).

Three passes: every operation but training (positive and negative data; examples, coverage and fuzzing phases);
``POST /models/train`` with invalid bodies only (``--mode negative``), since a schema-valid body is a real training
job (no training worker runs here, so even a wrongly accepted job would only wait in the queue); and every operation
without the API key (mutating calls must answer the documented 401).

Then the hostile-body probes (``probe_hostile_bodies``): every documented operation gets a JSON body nested 100 000
levels deep, one with a 100 000-character key and one with a number beyond float range; each must answer 400 with
the error code naming the problem (``json_too_deep``, ``json_key_too_long``, ``number_out_of_range``), never 5xx.

Prints the number of cases, the count per status code and per operation, and every failure schemathesis found.
Exit status 0 only when there were none.

Usage: python -m bench.fuzz_api [--max-examples 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geulpi_tasks.settings import Settings  # noqa: E402
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server  # noqa: E402

# Every response check that needs no external state; the "stateful" checks (use_after_free, ...) need links.
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,negative_data_rejection")
TRAIN_OPERATION = "trainModel"


@dataclasses.dataclass
class FuzzReport:
    """What one schemathesis run did: one case per HTTP request it sent."""

    exit_code: int
    cases: int
    by_status: dict[int, int]
    by_operation: dict[str, dict[int, int]]
    failures: list[str]
    output: str

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 500)


Routes = list[tuple[re.Pattern[str], str, set[str]]]


def _route_labels(base_url: str) -> Routes:
    """(URL path regex, documented path, its methods) for every documented path, so cases count per operation."""
    paths = requests.get(f"{base_url}/openapi.json", timeout=30).json()["paths"]
    return [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path,
             {method.upper() for method in operations}) for path, operations in paths.items()]


def _read_har(path: Path, routes: Routes) -> tuple[collections.Counter[int], dict[str, dict[int, int]]]:
    by_status: collections.Counter[int] = collections.Counter()
    by_operation: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    if not path.exists():
        return by_status, {}
    for entry in json.loads(path.read_text())["log"]["entries"]:
        status = int(entry["response"]["status"])
        by_status[status] += 1
        url_path = re.sub(r"^https?://[^/]+", "", entry["request"]["url"].split("?", 1)[0])
        method = entry["request"]["method"]
        route = next((r for r in routes if r[0].match(url_path)), None)
        if route is None:
            label = "(undocumented path)"
        elif method not in route[2]:
            label = "(undocumented methods, every path)"  # schemathesis' unsupported-method probes
        else:
            label = f"{method} {route[1]}"
        by_operation[label][status] += 1
    return by_status, {operation: dict(counts) for operation, counts in by_operation.items()}


def _failures(output: str) -> list[str]:
    """The failure headings of schemathesis' output ('- Server error', '- Response violates schema', ...)."""
    found = []
    operation = ""
    for line in output.splitlines():
        if line.startswith("_") and line.rstrip("_ ").strip("_ "):
            operation = line.strip("_ ")
        if re.match(r"^- [A-Z]", line):
            found.append(f"{operation}: {line[2:].strip()}")
    return found


def run_schemathesis(base_url: str, *, max_examples: int, seed: int, api_key: str | None, workers: int,
                     report_dir: Path, mode: str = "all", include_operation: str | None = None,
                     exclude_operation: str | None = None, phases: str = "examples,coverage,fuzzing",
                     request_timeout_s: float = 30.0, label: str = "") -> FuzzReport:
    """Run ``schemathesis run`` against ``base_url`` (a real HTTP server) and count what it sent and got."""
    report_dir.mkdir(parents=True, exist_ok=True)
    har = report_dir / f"fuzz-{mode}-{include_operation or 'all'}{label}.har"
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
               "--checks", CHECKS, "--mode", mode, "--phases", phases,
               "--max-examples", str(max_examples), "--seed", str(seed), "--workers", str(workers),
               "--request-timeout", str(request_timeout_s), "--continue-on-failure", "--no-shrink",
               "--suppress-health-check", "all", "--report", "har", "--report-har-path", str(har),
               "--output-truncate", "false"]
    if api_key:
        command += ["--header", f"Authorization: Bearer {api_key}"]
    if include_operation:
        command += ["--include-operation-id", include_operation]
    if exclude_operation:
        command += ["--exclude-operation-id", exclude_operation]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    done = subprocess.run(command, cwd=report_dir, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    by_status, by_operation = _read_har(har, _route_labels(base_url))
    return FuzzReport(exit_code=done.returncode, cases=sum(by_status.values()), by_status=dict(by_status),
                      by_operation=dict(by_operation), failures=_failures(output), output=output)


def fuzz_all(base_url: str, *, max_examples: int, seed: int, api_key: str | None, workers: int,
             report_dir: Path) -> list[tuple[str, FuzzReport]]:
    """Every operation but training in all modes, training with invalid bodies only, then everything keyless."""
    return [
        ("all operations but trainModel, positive + negative",
         run_schemathesis(base_url, max_examples=max_examples, seed=seed, api_key=api_key, workers=workers,
                          report_dir=report_dir, exclude_operation=TRAIN_OPERATION)),
        ("trainModel, negative only",
         run_schemathesis(base_url, max_examples=max_examples, seed=seed, api_key=api_key, workers=workers,
                          report_dir=report_dir, mode="negative", include_operation=TRAIN_OPERATION)),
        # Without a key every mutating call (training included) must be a documented 401, never a job.
        ("every operation without an API key, positive",
         run_schemathesis(base_url, max_examples=max(3, max_examples // 10), seed=seed, api_key=None,
                          workers=workers, report_dir=report_dir, mode="positive", phases="examples,fuzzing",
                          label="nokey")),
    ]


# name -> (body, the error code that must name the problem)
HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "deep nesting": (b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "json_too_deep"),
    "long key": (b'{"' + b"k" * 100_000 + b'": 1, "title": "x"}', "json_key_too_long"),
    "number beyond float range": (b'{"title": "x", "startTime": 1e999, "duration_hours": 1' + b"0" * 400 + b"}",
                                  "number_out_of_range"),
}


@dataclasses.dataclass
class ProbeReport:
    """Every (operation, probe): the status and error code it got; ``failures`` lists the wrong ones."""

    results: list[tuple[str, str, int, str]]

    @property
    def failures(self) -> list[str]:
        expected = {name: code for name, (_, code) in HOSTILE_BODIES.items()}
        return [f"{operation} / {probe}: {status} {code}" for operation, probe, status, code in self.results
                if status != 400 or code != expected[probe]]

    @property
    def server_errors(self) -> int:
        return sum(1 for _, _, status, _ in self.results if status >= 500)


def probe_hostile_bodies(base_url: str, *, api_key: str | None) -> ProbeReport:
    """Send each hostile body to every documented operation (path parameters filled with a dummy value)."""
    paths = requests.get(f"{base_url}/openapi.json", timeout=30).json()["paths"]
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
    results = []
    with requests.Session() as session:
        for path, operations in sorted(paths.items()):
            url = base_url + re.sub(r"\{[^}]+\}", "probe", path)
            for method in operations:
                for probe, (body, _code) in HOSTILE_BODIES.items():
                    response = session.request(method.upper(), url, data=body, headers=headers, timeout=60)
                    try:
                        code = str(response.json()["error"]["code"])
                    except (ValueError, KeyError, TypeError):
                        code = "-"
                    results.append((f"{method.upper()} {path}", probe, response.status_code, code))
    return ProbeReport(results)


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=10)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:500]}"
        except requests.RequestException as err:
            last = repr(err)
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:g} s; last: {last}")


def _print_report(title: str, report: FuzzReport) -> None:
    print(f"\n== {title}: {report.cases} cases, exit code {report.exit_code}")
    print("   by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(report.by_status.items())))
    for operation, counts in sorted(report.by_operation.items(), key=lambda item: item[0].split()[::-1]):
        print(f"   {sum(counts.values()):6d}  {operation:42s} "
              + " ".join(f"{status}x{n}" for status, n in sorted(counts.items())))
    print(f"   failures: {len(report.failures)}")
    for failure in report.failures:
        print(f"     - {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    # More than one worker thread crashed schemathesis' coverage phase here (CPython 3.11 ast.parse in threads).
    parser.add_argument("--workers", type=int, default=1, help="concurrent schemathesis workers")
    parser.add_argument("--samples", type=int, default=4000, help="training events of the served model")
    parser.add_argument("--trees", type=int, default=40)
    parser.add_argument("--keep-reports", action="store_true", help="keep the HAR files and print their folder")
    args = parser.parse_args()

    from geulpi_tasks.training.bootstrap import ensure_production_model

    tmp = Path(tempfile.mkdtemp(prefix="geulpi-fuzz-"))
    port = free_port()
    redis_proc = start_redis_server(port, tmp / "redis", appendonly=False)
    api_key = secrets.token_urlsafe(24)
    settings = Settings(data_dir=tmp, redis_url=f"redis://127.0.0.1:{port}/0",
                        mlflow_tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", bootstrap_samples=args.samples,
                        bootstrap_trees=args.trees, model_poll_interval_s=1.0, api_keys=api_key)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        started = time.monotonic()
        ref, _ = ensure_production_model(tracking_uri=settings.effective_tracking_uri,
                                         artifact_root=settings.artifact_root, model_name=settings.model_name,
                                         n_samples=args.samples, n_trees=args.trees, seed=settings.seed)
        env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT),
               "PROMETHEUS_MULTIPROC_DIR": str(settings.effective_metrics_dir)}
        api_port = free_port()
        logs = tmp / "logs"
        logs.mkdir()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        for name, command in (
                ("inference", [sys.executable, "-m", "workers.inference", "--concurrency", "2"]),
                ("api", [gunicorn, "-b", f"127.0.0.1:{api_port}", "-w", "2", "-k", "gthread", "--threads", "8",
                         "--timeout", "60", "api:wsgi_app()"])):
            with open(logs / f"{name}.log", "wb") as log:
                procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        base_url = f"http://127.0.0.1:{api_port}"
        try:
            _wait_http(base_url + "/openapi.json", timeout=120)
            _wait_http(base_url + "/health", timeout=300)  # an inference worker must answer its ping
        except RuntimeError:
            for name in ("api", "inference"):
                print(f"---- {name}.log ----\n{(logs / f'{name}.log').read_text(errors='replace')[-3000:]}")
            raise
        print(f"stack up in {time.monotonic() - started:.0f} s: model version {ref.version}, API {base_url}")

        fuzz_started = time.monotonic()
        reports = fuzz_all(base_url, max_examples=args.max_examples, seed=args.seed, api_key=api_key,
                           workers=args.workers, report_dir=tmp / "reports")
        probes = probe_hostile_bodies(base_url, api_key=api_key)
        elapsed = time.monotonic() - fuzz_started
        for title, report in reports:
            _print_report(title, report)
        print(f"\n== hostile bodies: {len(probes.results)} probes, {probes.server_errors} x 5xx, "
              f"{len(probes.failures)} failures")
        for failure in probes.failures:
            print(f"     - {failure}")
        total: collections.Counter[int] = collections.Counter()
        for _, report in reports:
            total.update(report.by_status)
        failures = sum(len(r.failures) for _, r in reports) + len(probes.failures)
        print(f"\nTOTAL: {sum(total.values())} cases in {elapsed:.0f} s; "
              + ", ".join(f"{s}: {n}" for s, n in sorted(total.items()))
              + f"; 5xx: {sum(r.server_errors for _, r in reports) + probes.server_errors}; failures: {failures}")
        api_log = (logs / "api.log").read_text(errors="replace")
        tracebacks = api_log.count("Traceback")
        print(f"API log: {tracebacks} tracebacks")
        if failures or tracebacks:
            for title, report in reports:
                if report.failures:
                    print(f"\n---- schemathesis output ({title}) ----\n{report.output[-20000:]}")
        if args.keep_reports:
            print(f"reports and logs kept in {tmp}")
        sys.exit(0 if failures == 0 and all(r.exit_code == 0 for _, r in reports) else 1)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        stop_redis_server(redis_proc)
        if not args.keep_reports:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
