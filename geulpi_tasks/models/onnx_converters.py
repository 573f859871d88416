"""The ONNX converters behind ``onnx_export.stage2_onnx_bytes``: skl2onnx for scikit-learn models, onnxmltools' XGBoost
converter registered into skl2onnx. Imported only when a model is exported (training processes): the converters
pull in skl2onnx, onnxmltools and XGBoost, which serving and the API never need.
"""

from __future__ import annotations

from typing import Any

from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
from skl2onnx import to_onnx, update_registered_converter
from skl2onnx.common.data_types import FloatTensorType
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from xgboost import XGBClassifier

# Registered once, when this module is first imported (Python's import lock makes that thread-safe).
update_registered_converter(XGBClassifier, "XGBoostXGBClassifier", calculate_linear_classifier_output_shapes,
                            convert_xgboost, options={"nocl": [True, False], "zipmap": [True, False]})


def to_onnx_bytes(model: Any, n_features: int, *, target_opset: dict[str, int]) -> bytes:
    """Probabilities as a plain tensor (no ZipMap), input ``x`` float32 with ``n_features`` columns."""
    onx = to_onnx(model, initial_types=[("x", FloatTensorType([None, n_features]))],
                  options={id(model): {"zipmap": False}}, target_opset=target_opset)
    return bytes(onx.SerializeToString())
