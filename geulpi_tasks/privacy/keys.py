"""Every Redis key the privacy area writes, built in one place (all under ``<prefix>:privacy:``), and the one
digest that stands for a user id where the id itself must not be kept (tombstones, audit targets)."""

from __future__ import annotations

import hashlib


def privacy_key(key_prefix: str, *parts: str) -> str:
    return ":".join((key_prefix, "privacy", *parts))


def user_tasks_key(key_prefix: str, user_id: str) -> str:
    """Set of ids of tasks whose arguments named this user (their results may hold the user's data)."""
    return privacy_key(key_prefix, "user_tasks", user_id)


def user_versions_key(key_prefix: str, user_id: str) -> str:
    """Set of ``<model>/<version>`` trained on this user's feedback."""
    return privacy_key(key_prefix, "user_versions", user_id)


def erased_key(key_prefix: str) -> str:
    """Hash user digest -> time of erasure (tombstones: training skips feedback received before it)."""
    return privacy_key(key_prefix, "erased")


def audit_key(key_prefix: str) -> str:
    """Stream of audit entries, trimmed by age."""
    return ":".join((key_prefix, "audit"))


def user_digest(user_id: str) -> str:
    """A stable digest of a user id (not reversible without guessing the id)."""
    return hashlib.sha256(f"geulpi-user\0{user_id}".encode("utf-8")).hexdigest()[:32]
