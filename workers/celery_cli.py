"""The app for the ``celery`` command: ``celery -A workers.celery_cli flower`` (or ``inspect ping``).

Importing this module reads nothing: the app takes its configuration from the environment the first time the
``celery`` command asks for it, which is that process's start.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from celery import Celery

from geulpi_tasks.settings import Settings
from workers.celery_app import create_celery


class _ConfigFromEnvironment(Mapping[str, Any]):
    """Celery's configuration for this process, built from ``Settings.from_env()`` when first read."""

    @cached_property
    def _values(self) -> dict[str, Any]:
        # The same configuration every other process applies (workers.celery_app.configure), read off a spare app.
        return dict(create_celery(Settings.from_env()).conf.changes)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


app = Celery("geulpi", set_as_current=False)
app.config_from_object(_ConfigFromEnvironment())

__all__ = ["app"]
