"""Start an inference worker: ``python -m workers.inference [extra celery worker options]``.

A threads pool of 4 (issue 13): ONNX Runtime releases the GIL while it predicts, and a classification is mostly
Redis I/O, so threads in one process beat prefork children, which paid a pipe round trip between parent and child
per task and held one model copy each. The model is loaded once when the worker is ready. Pass
``-P prefork -c 2`` to go back (each child then loads the model at start-up); CPU-heavy analyses share the GIL.
"""

from __future__ import annotations

import sys

from geulpi_tasks.settings import Settings
from workers import process_state
from workers.celery_app import app, configure
from workers.task_names import QUEUE_INFERENCE


def main(argv: list[str] | None = None) -> None:
    process_state.role = process_state.ProcessRole.INFERENCE
    configure(app, Settings.from_env())
    app.loader.import_default_modules()
    extra = argv if argv is not None else sys.argv[1:]
    app.worker_main(["worker", "-Q", QUEUE_INFERENCE, "-n", "inference@%h", "--prefetch-multiplier", "1",
                     "--pool", "threads", "--concurrency", "4", "-O", "fair", "--loglevel", "INFO", *extra])


if __name__ == "__main__":
    main()
