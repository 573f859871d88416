"""Start a training worker: ``python -m workers.training``. One job at a time by default; jobs ack late."""

from __future__ import annotations

import sys

from geulpi_tasks.settings import Settings
from workers import process_state
from workers.celery_app import app, configure
from workers.task_names import QUEUE_TRAINING


def main(argv: list[str] | None = None) -> None:
    process_state.role = process_state.ProcessRole.TRAINING
    configure(app, Settings.from_env())
    app.loader.import_default_modules()
    app.worker_main(["worker", "-Q", QUEUE_TRAINING, "-n", "training@%h", "--prefetch-multiplier", "1",
                     "--concurrency", "1", "--loglevel", "INFO", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
