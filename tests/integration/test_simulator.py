"""The traffic simulator end to end: ~5 s of mixed traffic (single and batch classifications, analyses, delayed
feedback) from the command line against the API served over real HTTP, a real inference worker and Redis."""

import json
import threading

import pytest
from werkzeug.serving import make_server

from geulpi_tasks.tools.simulation.cli import main
from geulpi_tasks.tools.simulation.plan import TrafficConfig, plan_counts, plan_traffic


@pytest.fixture()
def api_url(api_app):
    server = make_server("127.0.0.1", 0, api_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.usefixtures("inference_worker")
def test_simulator_drives_the_api_without_errors_and_reports_every_call(api_url, base_settings, tmp_path, capsys):
    out = tmp_path / "report.json"
    args = ["--url", api_url, "--users", "25", "--rate", "12", "--duration", "5", "--feedback-share", "0.3",
            "--batch-share", "0.15", "--analysis-share", "0.1", "--seed", "5", "--concurrency", "4",
            "--no-progress", "--json-out", str(out)]
    assert main(args, settings=base_settings) == 0, capsys.readouterr()
    report = json.loads(out.read_text())

    planned = plan_counts(plan_traffic(TrafficConfig(users=25, rate=12, duration_s=5, feedback_share=0.3,
                                                     batch_share=0.15, analysis_share=0.1, seed=5), 3000))
    assert report["planned"] == planned
    assert report["errors"] == {"total": 0, "byKind": {}}
    assert report["requests"] == report["ok"] == sum(planned.values())
    assert {kind: row["requests"] for kind, row in report["byKind"].items()} == {
        kind: n for kind, n in planned.items() if n}
    assert report["feedbackStored"] == planned["feedback"] > 0
    assert report["statuses"] == {"200": sum(planned.values()) - planned["feedback"], "201": planned["feedback"]}
    # Single and batch classifications are scored against the generator's true labels.
    assert report["accuracy"]["labelled"] >= planned["classify"] + 2 * planned["batch"]
    assert report["accuracy"]["rate"] > 0.6
    # Hand-labelled realistic events ride along and are scored on their own.
    realistic = report["accuracy"]["realistic"]
    assert realistic["labelled"] > 0 and realistic["rate"] is not None
    assert report["accuracy"]["generated"]["labelled"] + realistic["labelled"] == report["accuracy"]["labelled"]
    assert report["latencyMs"]["ok"]["max"] < base_settings.sync_timeout_s * 1000
    assert "accuracy vs true labels" in capsys.readouterr().out
