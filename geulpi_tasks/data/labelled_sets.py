"""The project's hand-written, hand-labelled calendar events: the real-world yardstick (files in ``realistic/``).

Two roles (see ``realistic/README.md``):
- **dev** sets are for training, tuning, calibration and promotion decisions;
- the **test** set is frozen: it is only ever *reported* (training runs, ``compare``, the dashboard), never used to
  fit, tune, calibrate or choose anything. Its fingerprint is pinned here and in a test, so an edit is caught.

Every file is checked against its pinned SHA-256 when it is loaded, so no two runs measure on different data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

REALISTIC_DIR = Path(__file__).resolve().parent / "realistic"


class SetRole(StrEnum):
    DEV = "dev"
    TEST = "test"


@dataclass(frozen=True)
class LabelledSet:
    name: str
    role: SetRole
    sha256: str

    @property
    def path(self) -> Path:
        return REALISTIC_DIR / f"{self.name}.jsonl"


SETS: tuple[LabelledSet, ...] = (
    LabelledSet("dev_1", SetRole.DEV, "07f791015e8bc8e499a50a7bae1e6dc97e7e0997c72fb83f41cccab95d710f87"),
    LabelledSet("dev_2", SetRole.DEV, "5bd34cf4eecab75d0f1fd98207ebfc1d3da9d153bbc72dc1e7e9e7ce2dfa08f0"),
    LabelledSet("dev_3", SetRole.DEV, "38ab3982f7b5b50f5d4641bd5dcf6faa3b45a7ec681449935e27a3efd35a8d6c"),
    LabelledSet("test", SetRole.TEST, "6a8d8f39cade266e4c59b6e3fc9270dd247bc4694564d4ace64682a319a867b5"),
)
# The share of dev rows kept out of fitting in every training run (chosen by a stable hash of the text), on which
# calibration, the search objective and the promotion gates measure.
DEV_HOLDOUT_SHARE = 0.3


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=None)
def _load(name: str) -> tuple[dict[str, Any], ...]:
    spec = next((s for s in SETS if s.name == name), None)
    if spec is None:
        raise KeyError(f"No labelled set '{name}'; known: {', '.join(s.name for s in SETS)}.")
    digest = file_sha256(spec.path)
    if digest != spec.sha256:
        raise ValueError(f"Labelled set '{name}' changed (sha256 {digest}, pinned {spec.sha256}); a frozen set is "
                         "never edited, and a dev set edit must update its pin in labelled_sets.py.")
    rows = [json.loads(line) for line in spec.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple({**row, "set": name} for row in rows)


def load_rows(role: SetRole) -> list[dict[str, Any]]:
    """Every row of every set in ``role``, each tagged with its set's name under ``set``."""
    return [dict(row) for spec in SETS if spec.role is role for row in _load(spec.name)]


def _holdout_key(row: dict[str, Any]) -> float:
    text = "\x1f".join(str(row.get(k) or "") for k in ("title", "description", "location"))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def split_dev(rows: Sequence[dict[str, Any]], holdout_share: float = DEV_HOLDOUT_SHARE
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(fit, holdout) by a stable hash of each event's text: the same event always lands on the same side, and
    repeated texts never straddle the two."""
    fit = [dict(r) for r in rows if _holdout_key(r) >= holdout_share]
    holdout = [dict(r) for r in rows if _holdout_key(r) < holdout_share]
    return fit, holdout
