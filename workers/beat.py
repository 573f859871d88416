"""Start Celery Beat with ``beat_schedule.SCHEDULE``: ``python -m workers.beat``. Run exactly one per deployment."""

from __future__ import annotations

import sys

from beat_schedule import SCHEDULE
from workers.celery_app import app, settings_of


def main(argv: list[str] | None = None) -> None:
    app.conf.beat_schedule = SCHEDULE
    schedule_file = settings_of(app).data_dir / "celerybeat-schedule"
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    app.start(["beat", "--loglevel", "INFO", "--schedule", str(schedule_file),
               *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
