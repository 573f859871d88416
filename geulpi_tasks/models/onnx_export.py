"""Stage-2 models (the tree ensemble that reads text probabilities and time/context numbers) exported to ONNX.

One served runtime whatever family won the search: scikit-learn forests convert through skl2onnx's own converters,
XGBoost through onnxmltools' XGBoost converter registered into skl2onnx. Probabilities come out as a plain tensor
(no ZipMap), as the last output, for both, so ``ServedClassifier`` needs no per-family code.
"""

from __future__ import annotations

import threading
from typing import Any

LOGISTIC = "logistic"
RANDOM_FOREST = "random_forest"
EXTRA_TREES = "extra_trees"
XGBOOST = "xgboost"
# The opsets forests were exported with before XGBoost joined; both converters emit TreeEnsembleClassifier in them.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}

_register_lock = threading.Lock()
_xgboost_registered = False


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


def register_xgboost_converter() -> None:
    """Teach skl2onnx to convert ``XGBClassifier`` (onnxmltools' converter). Idempotent and thread-safe."""
    global _xgboost_registered
    with _register_lock:
        if _xgboost_registered:
            return
        # Converters load only when a model is exported (training), never in the serving or API processes.
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
        from xgboost import XGBClassifier

        update_registered_converter(XGBClassifier, "XGBoostXGBClassifier", calculate_linear_classifier_output_shapes,
                                    convert_xgboost, options={"nocl": [True, False], "zipmap": [True, False]})
        _xgboost_registered = True


def stage2_onnx_bytes(model: Any, n_features: int) -> bytes:
    """The fitted stage-2 model as a serialized ONNX graph with input ``x`` (float32, ``n_features`` columns).

    Raises ``RuntimeError`` (skl2onnx's) for a model type neither converter knows.
    """
    # skl2onnx is heavy and needed only at export time (training), never in the serving or API processes.
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    if stage2_family(model) == XGBOOST:
        register_xgboost_converter()
    onx = to_onnx(model, initial_types=[("x", FloatTensorType([None, n_features]))],
                  options={id(model): {"zipmap": False}}, target_opset=TARGET_OPSET)
    return bytes(onx.SerializeToString())
