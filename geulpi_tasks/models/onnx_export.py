"""Stage-2 models (the tree ensemble that reads text probabilities and time/context numbers) exported to ONNX.

One served runtime whatever family won the search: scikit-learn forests convert through skl2onnx's own converters,
XGBoost through onnxmltools' XGBoost converter registered into skl2onnx. Probabilities come out as a plain tensor
(no ZipMap), as the last output, for both, so ``ServedClassifier`` needs no per-family code.
"""

from __future__ import annotations

from typing import Any

LOGISTIC = "logistic"
RANDOM_FOREST = "random_forest"
EXTRA_TREES = "extra_trees"
XGBOOST = "xgboost"
# The opsets forests were exported with before XGBoost joined; both converters emit TreeEnsembleClassifier in them.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def stage2_family(model: Any) -> str:
    """The family name of a fitted stage-2 model (what the registered version's params report)."""
    kind = type(model)
    if kind.__module__.startswith("xgboost"):
        return XGBOOST
    if kind.__name__ == "ExtraTreesClassifier":
        return EXTRA_TREES
    if kind.__name__ == "RandomForestClassifier":
        return RANDOM_FOREST
    if kind.__name__ == "LogisticRegression":
        return LOGISTIC
    return kind.__name__


def stage2_onnx_bytes(model: Any, n_features: int) -> bytes:
    """The fitted stage-2 model as a serialized ONNX graph with input ``x`` (float32, ``n_features`` columns).

    Raises ``RuntimeError`` (skl2onnx's) for a model type neither converter knows.
    """
    # The converters are heavy and needed only at export time (training), never in the serving or API processes.
    from geulpi_tasks.models import onnx_converters

    return onnx_converters.to_onnx_bytes(model, n_features, target_opset=TARGET_OPSET)
