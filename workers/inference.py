"""Start an inference worker: ``python -m workers.inference [extra celery worker options]``.

Prefork children with prefetch 1 and no recycling; each child loads the production model once at start-up.
"""

from __future__ import annotations

import sys

from workers import process_state
from workers.celery_app import app
from workers.task_names import QUEUE_INFERENCE


def main(argv: list[str] | None = None) -> None:
    process_state.role = "inference"
    app.loader.import_default_modules()
    extra = argv if argv is not None else sys.argv[1:]
    app.worker_main(["worker", "-Q", QUEUE_INFERENCE, "-n", "inference@%h", "--prefetch-multiplier", "1",
                     "--pool", "threads", "--concurrency", "4", "-O", "fair", "--loglevel", "INFO", *extra])


if __name__ == "__main__":
    main()
