"""Phase 1 of a training job: the rows it learns from and the held-out rows it is judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from geulpi_tasks.data.generator import generate_events, is_contentless, split_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.feedback import list_feedback_rows
from geulpi_tasks.models.event_classifier import data_fingerprint
from geulpi_tasks.privacy.erasure import erased_before
from geulpi_tasks.training.request import TrainingRequest

# How much one row counts in fitting, against a generated row's 1: a hand-labelled realistic row, and a user's
# correction (the strongest evidence of what the model gets wrong on real calendars).
REALISTIC_WEIGHT = 3.0
FEEDBACK_WEIGHT = 8.0


@dataclass
class TrainingRows:
    """The splits of one job. ``train`` mixes generated, realistic-dev and feedback rows, each with ``weight`` and
    ``source``; the holdouts are kept out of fitting: calibration, the gates and ``compare`` measure on them."""

    train: list[dict]
    validation: list[dict]
    test: list[dict]
    info: dict[str, Any] = field(default_factory=dict)
    realistic_holdout: list[dict] = field(default_factory=list)
    feedback_holdout: list[dict] = field(default_factory=list)
    # Users whose feedback is in the training split (recorded against the version, listed when one is erased).
    feedback_users: set[str] = field(default_factory=set)

    def fingerprints(self, label: str) -> dict[str, Any]:
        """Row counts and a content hash of each split, plus where the data came from."""
        return {"train": data_fingerprint(_fp_rows(self.train, label)),
                "validation": data_fingerprint(_fp_rows(self.validation, label)),
                "test": data_fingerprint(_fp_rows(self.test, label)), **self.info}


def load_training_rows(request: TrainingRequest, *, redis_client: Any, key_prefix: str, seed: int,
                       default_samples: int) -> TrainingRows:
    """The request's rows (or generated ones) split three ways. Feedback corrections join the training split only,
    so the held-out test split stays comparable between versions.

    Raises InvalidInput when a split ends up with fewer than two labels.
    """
    rows = list(request.training_data) if request.training_data else generate_events(
        request.n_samples or default_samples, seed=seed)
    label = request.label_key
    # Stratify on the label being learned: the splitter groups by "category".
    keyed = [{**r, "category": r[label], "_original_category": r.get("category")} for r in rows if r.get(label)]
    train, val, test = (_unkey(part) for part in split_events(keyed, seed=seed))
    train = [{**r, "source": "generated" if not request.training_data else "request", "weight": 1.0} for r in train]
    info: dict[str, Any] = {"source": "request" if request.training_data else "generator", "feedback_rows": 0,
                            "realistic_rows": 0, "weights": {"generated": 1.0, "realistic": REALISTIC_WEIGHT,
                                                             "feedback": FEEDBACK_WEIGHT}}
    realistic_holdout: list[dict] = []
    if request.include_realistic:
        fit, realistic_holdout = split_dev([r for r in load_rows(SetRole.DEV) if r.get(label) in request.classes])
        # Contentless rows ("asdf" → OTHER) are best guesses, taught as "no idea" by the text stage instead.
        train = train + [{**r, "source": "realistic", "weight": REALISTIC_WEIGHT} for r in fit if not is_contentless(r)]
        info["realistic_rows"] = len(fit)
        info["realistic_holdout_rows"] = len(realistic_holdout)
    feedback_holdout: list[dict] = []
    users: set[str] = set()
    if request.include_feedback:
        # Feedback of erased users received before their erasure never comes back (e.g. from a restored backup).
        keep = erased_before(redis_client, key_prefix)
        feedback = [r for r in list_feedback_rows(redis_client, key_prefix, keep=keep)
                    if r.get(label) in request.classes]
        # The same stable split as the dev sets: a share of corrections is kept to judge the candidate with.
        fit_feedback, feedback_holdout = split_dev(feedback)
        train = train + [{**r, "source": "feedback", "weight": FEEDBACK_WEIGHT} for r in fit_feedback
                         if not is_contentless(r)]
        info["feedback_rows"] = len(fit_feedback)
        info["feedback_holdout_rows"] = len(feedback_holdout)
        # Held-out corrections judged this version, so their users count as well.
        users = {str(r["userId"]) for r in feedback if r.get("userId") is not None}
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len({r[label] for r in part}) < 2:
            raise InvalidInput(f"The {name} split has fewer than two labels; send more varied training data.",
                               field="training_data")
    return TrainingRows(train, val, test, info, realistic_holdout, feedback_holdout, users)


def _unkey(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k != "_original_category"}
        if r.get("_original_category") is not None:
            row["category"] = r["_original_category"]
        else:
            row.pop("category", None)
        out.append(row)
    return out


def _fp_rows(rows: Sequence[dict], label: str) -> list[dict]:
    # data_fingerprint counts rows per "category"; count the label this model learns.
    return [{**r, "category": r[label]} for r in rows]
