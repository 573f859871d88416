"""gunicorn settings for the API: ``gunicorn -c api/gunicorn_conf.py ... 'api:wsgi_app()'``. Access log on, and
every line gunicorn and the app write is JSON.

Loaded by path, not as ``api.gunicorn_conf``: importing the ``api`` package here would import MLflow before
library warnings are routed to the JSON log.
"""

from __future__ import annotations

import logging
from typing import Any

accesslog = "-"
errorlog = "-"
# Library warnings (printed raw to stderr otherwise) become JSON lines of the "py.warnings" logger.
logging.captureWarnings(True)

logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "geulpi_tasks.observability.logs.json_formatter"},
                   "access": {"()": "geulpi_tasks.observability.logs.AccessJsonFormatter"}},
    "handlers": {"error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
                 "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"}},
    "root": {"level": "INFO", "handlers": ["error"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
                "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False}},
}
