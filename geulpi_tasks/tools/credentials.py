"""Secrets ``scripts/start`` generates once and keeps under the data folder: the API key and Flower's password.

A secure default for a one-machine start: nothing is left open because nobody configured a key, and the same key
survives restarts (so clients keep working) until the file is deleted or ``GEULPI_API_KEYS`` is set.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

API_KEY_FILE = "api-key"
FLOWER_AUTH_FILE = "flower-auth"
FLOWER_USER = "admin"


def load_or_create_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret stored in ``path``, creating it with ``make()`` (mode 0600) if missing; returns (secret, created).

    Creation uses O_EXCL, so two launchers racing on one data folder end up with the same secret. A file that is
    readable by others is narrowed to 0600 before use. Raises ValueError when the file exists but is empty.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        value = path.read_text().strip()
        if not value:
            raise ValueError(f"{path} is empty; delete it to have a new secret generated.") from None
        return value, False
    value = make()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, True


def new_api_key() -> str:
    return f"gk_{secrets.token_urlsafe(32)}"


def new_flower_auth() -> str:
    # token_urlsafe never yields ',' or ':', which Flower would read as separators.
    return f"{FLOWER_USER}:{secrets.token_urlsafe(24)}"
