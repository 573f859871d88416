"""Start Celery Beat with ``beat_schedule.build_schedule``: ``python -m workers.beat``. Run exactly one."""

from __future__ import annotations

import sys

from beat_schedule import build_schedule
from geulpi_tasks.settings import Settings
from workers import telemetry
from workers.celery_app import app, configure


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    configure(app, settings)
    telemetry.use_in_beat()
    app.conf.beat_schedule = build_schedule(settings)
    schedule_file = settings.data_dir / "celerybeat-schedule"
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    app.start(["beat", "--loglevel", "INFO", "--schedule", str(schedule_file),
               *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
