"""Why the classifier said what it said: additive contributions read from the model itself, never a surrogate.

Two stages, each explained exactly in its own additive space, for the chosen class against the runner-up:

- the text stage (TF-IDF → logistic regression) is linear: a word or character n-gram ``g`` with TF-IDF value
  ``x_g`` moves the text model's log-odds of the chosen class over the runner-up by ``x_g (β_g,c − β_g,r)``; the
  contributions plus the intercepts' difference are that log-odds exactly (``text.margin``);
- stage 2 reads the text probabilities and the 13 time/context numbers. A logistic stage 2 is linear too
  (``w_j z_j``); a tree stage is explained with TreeSHAP — XGBoost's own ``pred_contribs``, and for a forest the
  path-dependent TreeSHAP algorithm (Lundberg et al. 2018, Algorithm 2) over scikit-learn's trees below. The
  contributions of every stage-2 input plus the bias add up to the served model's margin:
  ``log(q_c / q_r) / T`` in log-odds (logistic, XGBoost; ``T`` the temperature, ``q`` the stage-2 output), and the
  forest's vote share difference ``q_c − q_r`` in probability (a forest averages probabilities, so that is its
  additive space; the temperature is applied after it).

``ADDITIVITY_TOLERANCE`` bounds the difference between the sum of contributions (float64) and the margin computed
from the served ONNX output (float32); tests/unit/test_explain.py checks it on the realistic dev set.

Explanations cost nothing unless asked: the stage-2 reference model and the term names load on the first
explanation a process serves (``ServedClassifier.explain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from geulpi_tasks.errors import Conflict
from geulpi_tasks.features.event_features import NUMERIC_FEATURES
from geulpi_tasks.models.onnx_export import EXTRA_TREES, LOGISTIC, RANDOM_FOREST, XGBOOST, stage2_family

LOG_ODDS = "log_odds"
PROBABILITY = "probability"
METHOD_LINEAR = "linear"
METHOD_TREE_SHAP = "tree_shap"
# Sum of contributions vs the margin read from the served (float32 ONNX) output, in the margin's units.
ADDITIVITY_TOLERANCE = 1e-3
TOP_TERMS = 5
TOP_FEATURES = 5
# Global summary: terms and features listed per class, over at most this many held-out events.
GLOBAL_TOP = 10
IMPORTANCE_ROWS = 300
# The global summary's file in each version's MLflow run.
IMPORTANCE_ARTIFACT = "importance.json"
TEXT_BLOCK = "text"
# The forest's TreeSHAP runs in Python (~70 µs per node and row): a live explanation is refused above this many
# nodes (~1.4 s per event), and the global summary of a forest reads at most FOREST_IMPORTANCE_ROWS events.
FOREST_SHAP_MAX_NODES = 20_000
FOREST_IMPORTANCE_ROWS = 20


class NotExplainable(Conflict):
    """The served version cannot be explained (a stage-2 family without an exact explainer, or a forest too large
    to explain within a request)."""

    code = "not_explainable"


def forest_nodes(model: Any) -> int:
    return sum(int(e.tree_.node_count) for e in getattr(model, "estimators_", ()))


def stage2_contributions(model: Any, z: np.ndarray) -> tuple[np.ndarray, str, str]:
    """Per-class additive contributions of each stage-2 input, shape (rows, inputs + 1, classes), the last input
    being the bias; and (units, method). For every row and class the sum over inputs is the model's own output for
    that class in ``units``: the logit (logistic, XGBoost margin) or the probability (forest).

    Raises NotExplainable (409) for a stage-2 family without an exact explainer."""
    family = stage2_family(model)
    z = np.asarray(z, dtype=np.float64)
    if family == LOGISTIC:
        coef = np.asarray(model.coef_, dtype=np.float64)  # (classes, inputs)
        phi = z[:, :, None] * coef.T[None, :, :]
        bias = np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64), (len(z), 1, coef.shape[0]))
        return np.concatenate([phi, bias], axis=1), LOG_ODDS, METHOD_LINEAR
    if family == XGBOOST:
        from xgboost import DMatrix  # training and explaining processes only

        raw = model.get_booster().predict(DMatrix(z.astype(np.float32)), pred_contribs=True)
        return np.transpose(np.asarray(raw, dtype=np.float64), (0, 2, 1)), LOG_ODDS, METHOD_TREE_SHAP
    if family in (RANDOM_FOREST, EXTRA_TREES):
        return forest_shap(model, z), PROBABILITY, METHOD_TREE_SHAP
    raise NotExplainable(f"The served model's stage 2 ({family}) has no exact explainer; ask without explain.")


# --- TreeSHAP for scikit-learn forests ----------------------------------------------------------------------------
# Path-dependent TreeSHAP (the algorithm XGBoost's pred_contribs runs), written over scikit-learn's tree arrays.
# ``path`` rows are [feature, zero_fraction, one_fraction, weight]; row 0 is the root's dummy element.


def _extend(path: np.ndarray, depth: int, zero: float, one: float, feature: int) -> None:
    path[depth] = (feature, zero, one, 1.0 if depth == 0 else 0.0)
    for i in range(depth - 1, -1, -1):
        path[i + 1, 3] += one * path[i, 3] * (i + 1) / (depth + 1)
        path[i, 3] = zero * path[i, 3] * (depth - i) / (depth + 1)


def _unwind(path: np.ndarray, depth: int, index: int) -> None:
    one, zero = path[index, 2], path[index, 1]
    next_one = path[depth, 3]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            tmp = path[i, 3]
            path[i, 3] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = tmp - path[i, 3] * zero * (depth - i) / (depth + 1)
        else:
            path[i, 3] = path[i, 3] * (depth + 1) / (zero * (depth - i))
    path[index:depth, :3] = path[index + 1:depth + 1, :3]


def _unwound_sum(path: np.ndarray, depth: int, index: int) -> float:
    one, zero = path[index, 2], path[index, 1]
    next_one = path[depth, 3]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0:
            tmp = next_one * (depth + 1) / ((i + 1) * one)
            total += tmp
            next_one = path[i, 3] - tmp * zero * (depth - i) / (depth + 1)
        elif zero != 0:
            total += path[i, 3] / zero / ((depth - i) / (depth + 1))
    return total


def _tree_shap(tree: Any, x: np.ndarray, phi: np.ndarray, scale: float) -> None:
    """Add one tree's SHAP values for row ``x`` (times ``scale``) into ``phi`` (inputs + 1, classes)."""
    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, tree.threshold
    cover = tree.weighted_n_node_samples
    values = tree.value[:, 0, :]
    values = values / values.sum(axis=1, keepdims=True)  # leaf class distributions (what predict_proba averages)
    paths = np.zeros((tree.max_depth + 2, tree.max_depth + 2, 4))

    def recurse(node: int, depth: int, parent: np.ndarray, zero: float, one: float, feat: int) -> None:
        path = paths[depth]
        path[:depth + 1] = parent[:depth + 1]
        _extend(path, depth, zero, one, feat)
        if left[node] < 0:
            for i in range(1, depth + 1):
                w = _unwound_sum(path, depth, i)
                phi[int(path[i, 0])] += w * (path[i, 2] - path[i, 1]) * values[node] * scale
            return
        split = int(feature[node])
        hot, cold = (left[node], right[node]) if x[split] <= threshold[node] else (right[node], left[node])
        in_zero, in_one = 1.0, 1.0
        found = next((k for k in range(1, depth + 1) if int(path[k, 0]) == split), None)
        if found is not None:
            in_zero, in_one = path[found, 1], path[found, 2]
            # Unwinding edits the path in place: work on a copy so the sibling branch sees this node's path.
            path = path.copy()
            _unwind(path, depth, found)
            depth -= 1
        recurse(hot, depth + 1, path, cover[hot] / cover[node] * in_zero, in_one, split)
        recurse(cold, depth + 1, path, cover[cold] / cover[node] * in_zero, 0.0, split)

    phi[-1] += values[0] * scale
    recurse(0, 0, paths[0], 1.0, 1.0, -1)


def forest_shap(forest: Any, z: np.ndarray) -> np.ndarray:
    """TreeSHAP values of a scikit-learn forest classifier, (rows, inputs + 1, classes); each row sums to
    ``forest.predict_proba`` per class. Pure Python: milliseconds per tree and row, for explanations only."""
    x32 = np.asarray(z, dtype=np.float32).astype(np.float64)  # scikit-learn's trees split float32 inputs
    n_inputs = x32.shape[1]
    out = np.zeros((len(x32), n_inputs + 1, len(forest.classes_)))
    scale = 1.0 / len(forest.estimators_)
    for row in range(len(x32)):
        for estimator in forest.estimators_:
            _tree_shap(estimator.tree_, x32[row], out[row], scale)
    return out


# --- one prediction's explanation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermIndex:
    """Names of the TF-IDF columns (column → n-gram, analyzer), built from the fitted vocabularies."""

    names: np.ndarray
    analyzers: np.ndarray

    @classmethod
    def build(cls, vocabularies: Sequence[tuple[str, dict[str, int], int]]) -> "TermIndex":
        """``vocabularies``: (analyzer, vocabulary, column offset) per vectorizer, in column order."""
        total = max((offset + len(vocab) for _, vocab, offset in vocabularies), default=0)
        names = np.empty(total, dtype=object)
        analyzers = np.empty(total, dtype=object)
        for analyzer, vocab, offset in vocabularies:
            for term, col in vocab.items():
                names[offset + col] = term
                analyzers[offset + col] = analyzer
        return cls(names, analyzers)


def _round(value: float) -> float:
    return round(float(value), 6)


def explain_row(*, classes: Sequence[str], served: np.ndarray, raw: np.ndarray, temperature: float,
                phi: np.ndarray, units: str, method: str, numeric: np.ndarray, term_cols: np.ndarray,
                term_values: np.ndarray, text_coef_t: np.ndarray, text_intercept: np.ndarray,
                terms: TermIndex) -> dict[str, Any]:
    """The explanation of one prediction (see the module docstring for what adds up to what).

    ``served``: the calibrated probabilities answered; ``raw``: the stage-2 output before the temperature;
    ``phi``: this row of ``stage2_contributions``; ``term_cols``/``term_values``: the row's TF-IDF columns."""
    order = np.argsort(-served, kind="stable")
    c, r = int(order[0]), int(order[1])
    k = len(classes)
    scale = 1.0 / temperature if units == LOG_ODDS else 1.0
    diff = (phi[:, c] - phi[:, r]) * scale
    floor = np.finfo(np.float64).tiny
    if units == LOG_ODDS:
        margin = (np.log(max(float(raw[c]), floor)) - np.log(max(float(raw[r]), floor))) / temperature
    else:
        margin = float(raw[c]) - float(raw[r])
    numeric_diff = diff[k:-1]
    top_features = np.argsort(-np.abs(numeric_diff), kind="stable")[:TOP_FEATURES]
    term_diff = term_values * (text_coef_t[term_cols, c] - text_coef_t[term_cols, r])
    top_terms = np.argsort(-np.abs(term_diff), kind="stable")[:TOP_TERMS]
    text_bias = float(text_intercept[c] - text_intercept[r])
    return {
        "class": classes[c], "runnerUp": classes[r],
        "probabilityMargin": _round(served[c] - served[r]),
        "margin": _round(margin), "units": units, "method": method, "tolerance": ADDITIVITY_TOLERANCE,
        "terms": [{"term": str(terms.names[term_cols[i]]), "analyzer": str(terms.analyzers[term_cols[i]]),
                   "contribution": _round(term_diff[i])} for i in top_terms],
        "text": {"margin": _round(text_bias + term_diff.sum()), "bias": _round(text_bias),
                 "otherTerms": _round(term_diff.sum() - term_diff[top_terms].sum())},
        "features": [{"name": NUMERIC_FEATURES[i], "value": _round(numeric[i]),
                      "contribution": _round(numeric_diff[i])} for i in top_features],
        "stage2": {"bias": _round(diff[-1]), TEXT_BLOCK: _round(diff[:k].sum()),
                   "otherFeatures": _round(numeric_diff.sum() - numeric_diff[top_features].sum())},
    }


def explanation_total(explanation: dict[str, Any]) -> tuple[float, float]:
    """(sum of stage-2 contributions, sum of text-stage contributions): what must equal ``margin`` and
    ``text.margin`` within ``tolerance`` (up to the rounding of each figure to 1e-6)."""
    stage2 = explanation["stage2"]
    total = stage2["bias"] + stage2[TEXT_BLOCK] + stage2["otherFeatures"]
    total += sum(f["contribution"] for f in explanation["features"])
    text = explanation["text"]
    text_total = text["bias"] + text["otherTerms"] + sum(t["contribution"] for t in explanation["terms"])
    return total, text_total


# --- what drives each class, over a set of events ------------------------------------------------------------------


def global_importance(*, classes: Sequence[str], phi: np.ndarray, units: str, method: str,
                      text_coef_t: np.ndarray, terms: TermIndex, rows: int) -> dict[str, Any]:
    """Per class: the stage-2 inputs with the largest mean |contribution| to that class's output (centred over the
    classes, so a shift every class shares counts for none), over ``phi`` (rows of ``stage2_contributions``); and
    the text model's strongest n-grams for and against it (coefficients centred over the classes)."""
    k = len(classes)
    centred = phi[:, :-1, :] - phi[:, :-1, :].mean(axis=2, keepdims=True)
    mean_abs = np.abs(centred).mean(axis=0)  # (inputs, classes)
    inputs = [f"text_prob_{c}" for c in classes] + list(NUMERIC_FEATURES)
    text_total = np.abs(centred[:, :k, :].sum(axis=1)).mean(axis=0)
    coef = text_coef_t - text_coef_t.mean(axis=1, keepdims=True)
    per_class: dict[str, Any] = {}
    for j, name in enumerate(classes):
        ranked = np.argsort(-mean_abs[:, j], kind="stable")[:GLOBAL_TOP]
        up = np.argsort(-coef[:, j], kind="stable")[:GLOBAL_TOP]
        down = np.argsort(coef[:, j], kind="stable")[:GLOBAL_TOP]
        per_class[name] = {
            "text_block": _round(text_total[j]),
            "features": [{"name": inputs[i], "mean_abs_contribution": _round(mean_abs[i, j])} for i in ranked],
            "terms_for": [{"term": str(terms.names[i]), "analyzer": str(terms.analyzers[i]),
                           "weight": _round(coef[i, j])} for i in up],
            "terms_against": [{"term": str(terms.names[i]), "analyzer": str(terms.analyzers[i]),
                               "weight": _round(coef[i, j])} for i in down],
        }
    return {"units": units, "method": method, "rows": rows, "per_class": per_class}
