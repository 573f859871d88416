"""Sticky assignment of callers to experiment variants.

A caller with an id (``userId``, else ``requestId``) lands in the same variant on every request, in every process
and after any restart: the bucket is a SHA-256 of the experiment id and the caller id, nothing stored. Callers
without an id are assigned at random with the same split.
"""

from __future__ import annotations

import hashlib
import random
from typing import Sequence

BUCKETS = 10_000  # traffic percentages are honoured to 0.01 %


def bucket_of(experiment_id: str, unit_id: str) -> int:
    """A stable bucket in [0, BUCKETS) for this caller in this experiment."""
    digest = hashlib.sha256(f"{experiment_id}:{unit_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign_variant(experiment_id: str, unit_id: str | None, variants: Sequence[tuple[str, float]],
                   rng: random.Random | None = None) -> str:
    """The variant name for this caller; ``variants`` are (name, traffic percentage) pairs summing to 100.

    With ``unit_id`` None the bucket is drawn from ``rng`` (a fresh system random source by default).
    """
    if unit_id is None:
        bucket = (rng or random.SystemRandom()).randrange(BUCKETS)
    else:
        bucket = bucket_of(experiment_id, unit_id)
    edge = 0.0
    for name, percentage in variants:
        edge += percentage * BUCKETS / 100.0
        if bucket < edge:
            return name
    return variants[-1][0]  # rounding at the top edge
