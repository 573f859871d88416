"""The app for the ``celery`` command: ``celery -A workers.celery_cli flower`` (or ``inspect ping``).

Importing this module is that process's start, so this is where it builds its Settings from the environment.
"""

from __future__ import annotations

from geulpi_tasks.settings import Settings
from workers.celery_app import app, configure

configure(app, Settings.from_env())

__all__ = ["app"]
