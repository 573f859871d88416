"""Every Redis key a training job and its Optuna study write, built in one place (``<prefix>:training:...``)."""

from __future__ import annotations


def job_key(key_prefix: str, job_id: str, part: str = "") -> str:
    """The job's state hash, or one of its parts (``lease``, ``stage2``)."""
    return f"{key_prefix}:training:job:{job_id}" + (f":{part}" if part else "")


def study_key(key_prefix: str) -> str:
    """Prefix of every key the Optuna journal writes for Geulpi."""
    return f"{key_prefix}:training:optuna:"


def trial_owner_key(key_prefix: str, owner: str) -> str:
    """Alive while the worker ``owner`` runs trials (refreshed by its heartbeat)."""
    return f"{key_prefix}:training:trial-owner:{owner}"
