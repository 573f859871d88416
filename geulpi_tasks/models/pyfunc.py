"""MLflow pyfunc wrapper, so a registered version is a normal MLflow model (``mlflow.pyfunc.load_model`` works).

Inference workers do not go through pyfunc: they download the version's bundle and build ``ServedClassifier``
directly, which skips MLflow's environment checks on the hot start-up path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc import PythonModel

from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.schemas import parse_event

BUNDLE_ARTIFACT = "bundle"


class EventClassifierPyfunc(PythonModel):
    def load_context(self, context: Any) -> None:
        self._model = ServedClassifier.load(Path(context.artifacts[BUNDLE_ARTIFACT]), name="pyfunc", version="local")

    # No type hints on predict: MLflow would try (and fail) to infer a signature from them.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        events = [parse_event(row) for row in model_input.to_dict("records")]
        probs = self._model.predict_proba(events)
        return pd.DataFrame(probs, columns=list(self._model.classes))
