"""MLflow pyfunc wrapper, so a registered version is a normal MLflow model: ``mlflow.pyfunc.load_model`` and
``mlflow models serve`` work on it, with a signature, an input example and pinned requirements.

Inference workers do not go through pyfunc: they download the version's bundle and build ``ServedClassifier``
directly, which skips MLflow's environment checks on the hot start-up path.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.schema import Array

from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.schemas import parse_event

BUNDLE_ARTIFACT = "bundle"
# What the wrapper imports when MLflow loads it (it also carries geulpi_tasks itself as code): pinned to the versions
# it was trained and tested with, so `mlflow models serve` rebuilds the same environment.
SERVING_DISTRIBUTIONS = ("mlflow", "scikit-learn", "onnxruntime", "numpy", "scipy", "joblib", "pandas", "redis",
                         "cloudpickle")
# One event, as the API takes it; stored with every version as its input example.
INPUT_EXAMPLE: dict[str, Any] = {"title": "Team standup meeting", "description": "Daily sync",
                                 "startTime": "2024-01-20T09:00:00", "endTime": "2024-01-20T09:30:00",
                                 "location": "Room 4", "attendees": ["kim@example.com", "lee@example.com"]}


def pinned_requirements() -> list[str]:
    """``name==version`` of every distribution the served wrapper needs, as installed here."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in SERVING_DISTRIBUTIONS]


def model_signature(bundle_dir: Path) -> ModelSignature:
    """Input: the event fields the classifier reads (times as ISO strings); output: one probability per class."""
    classes = json.loads((bundle_dir / "meta.json").read_text())["classes"]
    inputs = Schema([ColSpec(DataType.string, "title"), ColSpec(DataType.string, "startTime"),
                     ColSpec(DataType.string, "endTime"), ColSpec(DataType.string, "description", required=False),
                     ColSpec(DataType.string, "location", required=False),
                     ColSpec(Array(DataType.string), "attendees", required=False)])
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec(DataType.double, str(c)) for c in classes]))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value  # numpy arrays from array columns -> lists


class EventClassifierPyfunc(PythonModel):
    def load_context(self, context: Any) -> None:
        self._model = ServedClassifier.load(Path(context.artifacts[BUNDLE_ARTIFACT]), name="pyfunc", version="local")

    # No type hints on predict: MLflow would try (and fail) to infer a signature from them.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        rows = model_input.to_dict("records") if isinstance(model_input, pd.DataFrame) else list(model_input)
        events = [parse_event({k: _plain(v) for k, v in row.items() if _present(v)}) for row in rows]
        probs = self._model.predict_proba(events)
        return pd.DataFrame(probs, columns=list(self._model.classes))
