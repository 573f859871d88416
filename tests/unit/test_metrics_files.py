import subprocess
import sys

from geulpi_tasks.monitoring.metrics import render_metrics
from geulpi_tasks.settings import PROJECT_ROOT


def test_a_file_still_being_created_does_not_break_the_scrape(tmp_path):
    # Another process counts one prediction in the shared directory, as a worker would.
    code = ("from geulpi_tasks.monitoring.metrics import configure_metrics_dir, instruments; import pathlib, sys; "
            "configure_metrics_dir(pathlib.Path(sys.argv[1])); "
            "instruments().predictions.labels(model_name='m', model_version='1', status='success').inc()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=PROJECT_ROOT)
    (tmp_path / "counter_starting-123.db").touch()  # a process caught between creating and sizing its file
    text = render_metrics(tmp_path, None).decode()
    assert 'ml_predictions_total{model_name="m",model_version="1",status="success"} 1.0' in text
