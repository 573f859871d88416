"""Tree pruning: from a trained forest keep the fewest trees whose held-out accuracy stays within a tolerance of the
full forest, and report what that buys (trees, size, latency in ONNX Runtime and scikit-learn, accuracy).

The selection split is cut in two halves. Trees are ordered by greedy forward selection on the first half (each
step adds the tree that most improves the accuracy of the averaged votes, ties broken by log-loss); the kept subset
is the shortest prefix of that order whose accuracy on the second half — data the ordering never saw — is within
tolerance of the full forest's accuracy on that same half. (Choosing on the data that ordered the trees overfits:
one lucky tree can look as good as the forest.) Greedy selection is not guaranteed to find the globally smallest
subset, but it is the smallest prefix of a deterministic order, and the accuracy it promises is measured.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.models.onnx_export import stage2_onnx_bytes
from geulpi_tasks.optimization.search import onnx_session, single_row_latency_us

DEFAULT_TOLERANCE = 0.005  # 0.5 accuracy points


@dataclass
class PruningResult:
    forest: RandomForestClassifier
    kept_trees: list[int]
    report: dict[str, Any]


def _tree_probas(forest: RandomForestClassifier, x: np.ndarray) -> np.ndarray:
    """(n_trees, n_rows, n_classes) per-tree probabilities, aligned on the forest's classes."""
    return np.stack([tree.predict_proba(x) for tree in forest.estimators_])


def _greedy_order(per_tree: np.ndarray, y: np.ndarray) -> tuple[list[int], list[float]]:
    n_trees = per_tree.shape[0]
    rows = np.arange(len(y))
    chosen: list[int] = []
    remaining = list(range(n_trees))
    total = np.zeros(per_tree.shape[1:])
    curve: list[float] = []
    for k in range(1, n_trees + 1):
        candidates = (total[None] + per_tree[remaining]) / k  # (n_remaining, n_rows, n_classes)
        accuracy = (candidates.argmax(axis=2) == y[None]).mean(axis=1)
        nll = -np.log(np.clip(candidates[:, rows, y], 1e-12, 1.0)).mean(axis=1)
        best = int(np.lexsort((nll, -accuracy))[0])
        tree = remaining.pop(best)
        chosen.append(tree)
        total += per_tree[tree]
        curve.append(float(accuracy[best]))
    return chosen, curve


def _describe(forest: RandomForestClassifier, x_sel: np.ndarray, y_sel: np.ndarray, x_test: np.ndarray | None,
              y_test: np.ndarray | None, latency_rows: np.ndarray) -> dict[str, Any]:
    x32 = np.ascontiguousarray(latency_rows, dtype=np.float32)
    payload = stage2_onnx_bytes(forest, x32.shape[1])
    session = onnx_session(payload)
    name, output = session.get_inputs()[0].name, session.get_outputs()[-1].name
    buf = io.BytesIO()
    joblib.dump(forest, buf, compress=3)
    out = {
        "trees": len(forest.estimators_),
        "onnx_size_bytes": len(payload),
        "sklearn_size_bytes": len(buf.getvalue()),
        "onnx_latency_p50_us": single_row_latency_us(lambda r: session.run([output], {name: r}), x32),
        "sklearn_latency_p50_us": single_row_latency_us(forest.predict_proba, latency_rows, repeats=20),
        "selection_accuracy": float(np.mean(forest.predict(x_sel) == y_sel)),
    }
    if x_test is not None and y_test is not None:
        out["test_accuracy"] = float(np.mean(forest.predict(x_test) == y_test))
    return out


def prune_forest(forest: RandomForestClassifier, x_select: np.ndarray, y_select: np.ndarray, *,
                 tolerance: float = DEFAULT_TOLERANCE, x_test: np.ndarray | None = None,
                 y_test: np.ndarray | None = None) -> PruningResult:
    """The fewest-trees prefix (greedy order on the selection split) whose selection accuracy is at least the full
    forest's minus ``tolerance``; the report holds trees, sizes, latencies and accuracies before and after (and on
    an optional test split the selection never saw). Raises InvalidInput for a bad tolerance or empty data."""
    if not 0.0 <= tolerance < 1.0:
        raise InvalidInput("'prune_tolerance' must be between 0 and 1 (0.005 = half an accuracy point).",
                           field="prune_tolerance")
    if len(y_select) == 0:
        raise InvalidInput("Tree pruning needs a non-empty selection split.", field="training_data")
    if len(y_select) < 20:
        raise InvalidInput("Tree pruning needs at least 20 selection rows.", field="training_data")
    classes = forest.classes_
    y_idx = np.searchsorted(classes, y_select)
    order_rows = np.arange(len(y_select)) % 2 == 0
    check_rows = ~order_rows
    per_tree = _tree_probas(forest, x_select)
    order, curve = _greedy_order(per_tree[:, order_rows], y_idx[order_rows])
    check_probs = per_tree[:, check_rows]
    y_check = y_idx[check_rows]
    full_check = float(np.mean(check_probs.mean(axis=0).argmax(axis=1) == y_check))
    running = np.cumsum(check_probs[order], axis=0)  # prefix sums of votes in greedy order
    check_curve = (running.argmax(axis=2) == y_check[None]).mean(axis=1)
    k = int(next(i + 1 for i, acc in enumerate(check_curve) if acc >= full_check - tolerance))
    kept = sorted(order[:k])
    pruned = copy.deepcopy(forest)
    pruned.estimators_ = [forest.estimators_[i] for i in kept]
    pruned.n_estimators = len(kept)
    latency_rows = x_select[:50]
    before = _describe(forest, x_select, y_select, x_test, y_test, latency_rows)
    after = _describe(pruned, x_select, y_select, x_test, y_test, latency_rows)
    before["check_accuracy"] = full_check
    after["check_accuracy"] = float(check_curve[k - 1])
    report = {"tolerance": tolerance, "before": before, "after": after, "check_rows": int(check_rows.sum()),
              "accuracy_drop_check": full_check - float(check_curve[k - 1]),
              "accuracy_drop_selection": before["selection_accuracy"] - after["selection_accuracy"],
              "greedy_order_accuracy_curve": [round(float(a), 5) for a in curve],
              "check_accuracy_curve": [round(float(a), 5) for a in check_curve]}
    if "test_accuracy" in before:
        report["accuracy_drop_test"] = before["test_accuracy"] - after["test_accuracy"]
    return PruningResult(forest=pruned, kept_trees=kept, report=report)
