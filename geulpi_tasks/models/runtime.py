"""The served form of the event classifier: a bundle directory and the fast predictor built from it.

Serving path per request: TF-IDF features computed with the fitted vectorizers' own analyzer, vocabulary and idf
(scikit-learn's ``transform`` spends ~1 ms per call validating input) → text logits as one sparse product in NumPy →
stage-2 model (a RandomForest or an XGBoost booster, see ``onnx_export.py``) in ONNX Runtime on one thread →
temperature. A bundle may also hold the learned priority model (``priority.joblib``, plain arrays): its logits
reuse the same TF-IDF features, so serving priority costs one more small product per event. The fitted stage-2
object is kept in the bundle only as the reference (parity tests, the naive baseline
benchmark, compression) and is not loaded for serving. The file names still say "forest" for every family, so
bundles written before XGBoost could be served load unchanged.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import onnxruntime as ort
from scipy.sparse import csr_matrix
from scipy.sparse import hstack as sparse_hstack

from geulpi_tasks.features.event_features import (
    FEATURE_SCHEMA_VERSION,
    EventTexts,
    event_text,
    numeric_features,
)
from geulpi_tasks.models.event_classifier import TrainedClassifier, apply_temperature
from geulpi_tasks.models.explain import (
    FOREST_IMPORTANCE_ROWS,
    FOREST_SHAP_MAX_NODES,
    NotExplainable,
    TermIndex,
    explain_row,
    forest_nodes,
    global_importance,
    stage2_contributions,
)
from geulpi_tasks.models.onnx_export import stage2_family, stage2_onnx_bytes
from geulpi_tasks.models.priority import PriorityClassifier, predict_priorities
from geulpi_tasks.schemas import EventInput

BUNDLE_FORMAT = 1
_META = "meta.json"
_VECTORIZER = "vectorizer.joblib"
_TEXT_MODEL = "text_model.joblib"
_FOREST = "forest.joblib"
_FOREST_ONNX = "forest.onnx"
_PRIORITY = "priority.joblib"


def _fast_vectorizers(vectorizers: list[Any]) -> list[FastTfidf]:
    out, offset = [], 0
    for v in vectorizers:
        out.append(FastTfidf(v, offset))
        offset += out[-1].n_features
    return out


def save_bundle(model: TrainedClassifier, directory: Path, *, extra_meta: dict[str, Any] | None = None) -> Path:
    """Write the bundle (reference objects, ONNX stage-2 model, metadata); returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.vectorizer, directory / _VECTORIZER)
    joblib.dump(model.text_model, directory / _TEXT_MODEL)
    joblib.dump(model.forest, directory / _FOREST, compress=3)
    (directory / _FOREST_ONNX).write_bytes(stage2_onnx_bytes(model.forest, int(model.forest.n_features_in_)))
    if model.priority is not None:
        joblib.dump(model.priority.to_arrays(), directory / _PRIORITY, compress=3)
    meta = {"has_priority_model": model.priority is not None, "bundle_format": BUNDLE_FORMAT,
            "classes": list(model.classes), "temperature": model.temperature,
            "stage2_family": stage2_family(model.forest), "runtime": "onnxruntime",
            "feature_schema_version": FEATURE_SCHEMA_VERSION, "params": model.params, "metrics": model.metrics,
            **(extra_meta or {})}
    (directory / _META).write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return directory


def load_reference(directory: Path) -> TrainedClassifier:
    """The pure scikit-learn model from a bundle (slow per row; for baselines and checks, not serving)."""
    meta = json.loads((directory / _META).read_text())
    return TrainedClassifier(vectorizer=joblib.load(directory / _VECTORIZER),
                             text_model=joblib.load(directory / _TEXT_MODEL), forest=joblib.load(directory / _FOREST),
                             temperature=float(meta["temperature"]), classes=tuple(meta["classes"]),
                             metrics=meta.get("metrics", {}), params=meta.get("params", {}),
                             priority=_load_priority(directory))


def _load_priority(directory: Path) -> PriorityClassifier | None:
    path = directory / _PRIORITY
    return PriorityClassifier.from_arrays(joblib.load(path)) if path.exists() else None


# Distinct words whose character n-gram ids a vectorizer keeps (a word's grams never depend on its neighbours).
WORD_CACHE_MAX = 200_000
_NO_IDS = np.zeros(0, dtype=np.int64)


class FastTfidf:
    """Exactly ``TfidfVectorizer.transform`` (sublinear tf, idf, L2 norm) without per-call input validation.

    For ``char_wb`` vectorizers (no custom preprocessor, no accent stripping) the n-grams are scikit-learn's
    ``_char_wb_ngrams`` of each word, computed once per distinct word and kept as vocabulary ids (issue 13: the
    per-character Python loop was most of a batch's time). Thread-safe: the cache only ever gains entries."""

    def __init__(self, vectorizer: Any, offset: int):
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("FastTfidf supports sublinear_tf + idf + l2 vectorizers only")
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_.astype(np.float64)
        self._offset = offset
        self.n_features = len(self._idf)
        self.analyzer = "word" if vectorizer.analyzer == "word" else "char"
        self._char_wb = (vectorizer.analyzer == "char_wb" and vectorizer.preprocessor is None
                         and vectorizer.strip_accents is None and vectorizer.input == "content")
        self._lowercase = bool(vectorizer.lowercase)
        self._ngram_range = tuple(vectorizer.ngram_range)
        self._word_ids: dict[str, np.ndarray] = {}
        # Word n-grams without scikit-learn's analyzer chain (about half of the word vectorizer's time per text):
        # the same lower-casing, token pattern and space-joined n-grams, for the plain configuration only.
        self._tokens: Any = None
        if (vectorizer.analyzer == "word" and vectorizer.preprocessor is None and vectorizer.tokenizer is None
                and vectorizer.strip_accents is None and vectorizer.stop_words is None
                and vectorizer.input == "content" and self._ngram_range[0] == 1):
            pattern = re.compile(vectorizer.token_pattern)
            if pattern.groups == 0:
                self._tokens = pattern.findall

    def vocabulary(self) -> tuple[str, dict[str, int], int]:
        """(analyzer, vocabulary, first column): what ``TermIndex.build`` names the columns from."""
        return self.analyzer, self._vocabulary, self._offset

    def _ids_of_word(self, word: str) -> np.ndarray:
        ids = self._word_ids.get(word)
        if ids is None:
            padded = f" {word} "
            size = len(padded)
            grams: list[str] = []
            low, high = self._ngram_range
            for n in range(low, high + 1):
                if size <= n:  # scikit-learn counts a word shorter than n once, as itself, and stops
                    grams.append(padded)
                    break
                grams.extend([padded[i:i + n] for i in range(size - n + 1)])
            found = [i for i in map(self._vocabulary.get, grams) if i is not None]
            ids = np.asarray(found, dtype=np.int64)
            if len(self._word_ids) >= WORD_CACHE_MAX:
                self._word_ids.clear()
            self._word_ids[word] = ids
        return ids

    def _ids(self, text: str) -> np.ndarray:
        """Vocabulary ids of the text's known n-grams, repeated as often as they occur."""
        if self._char_wb:
            doc = text.lower() if self._lowercase else text
            parts = [self._ids_of_word(w) for w in doc.split()]
            return np.concatenate(parts) if parts else _NO_IDS
        # Counting and vocabulary look-ups stay in C (map, fromiter): a per-gram Python loop cost more than the
        # whole forest.
        grams = self._grams(text)
        ids = np.fromiter(map(self._vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        return ids[ids >= 0]

    def _grams(self, text: str) -> list[str]:
        if self._tokens is None:
            return list(self._analyze(text))
        tokens = self._tokens(text.lower() if self._lowercase else text)
        grams = list(tokens)
        for n in range(2, self._ngram_range[1] + 1):
            grams.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)))))
        return grams

    def _batch_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, vocabulary id) of every known n-gram of ``texts``, as often as it occurs: ``_ids`` of each text,
        with the NumPy calls made once for the batch rather than once per text."""
        if self._char_wb:
            chunks: list[np.ndarray] = []
            sizes = []
            for text in texts:
                words = list(map(self._ids_of_word, (text.lower() if self._lowercase else text).split()))
                chunks.extend(words)
                sizes.append(sum(map(len, words)))
            ids = np.concatenate(chunks) if chunks else _NO_IDS
            return np.repeat(np.arange(len(texts), dtype=np.int64), sizes), ids
        grams: list[str] = []
        counts = []
        for text in texts:
            mine = self._grams(text)
            grams.extend(mine)
            counts.append(len(mine))
        ids = np.fromiter(map(self._vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
        known = ids >= 0
        return rows[known], ids[known]

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        ids = self._ids(text)
        if ids.size == 0:
            return ids, np.zeros(0)
        idx, counts = np.unique(ids, return_counts=True)
        values = (1.0 + np.log(counts)) * self._idf[idx]
        return idx + self._offset, values / np.linalg.norm(values)

    def batch_features(self, texts: Sequence[str]) -> Any:
        """The TF-IDF of many texts at once as a CSR matrix (one row per text, columns sorted within a row): the
        same numbers as ``features`` per text, with the counting and normalising done once for the batch."""
        rows, ids = self._batch_ids(texts)
        # (row, column) keys in 32 bits when they fit: sorting them is most of the counting, and halves with the width.
        key_type: Any = np.int32 if len(texts) * self.n_features < 2**31 else np.int64
        width: np.ndarray = np.asarray(self.n_features, dtype=key_type)
        keys, counts = np.unique(rows.astype(key_type) * width + ids.astype(key_type), return_counts=True)
        rows, cols = np.divmod(keys, width)
        values = (1.0 + np.log(counts)) * self._idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return csr_matrix((values / norms[rows], cols, indptr), shape=(len(texts), self.n_features))


@dataclass
class ServedClassifier:
    """Thread-compatible, read-only predictor. One per worker process; replaced whole on promotion."""

    name: str
    version: str
    classes: tuple[str, ...]
    temperature: float
    _vectorizers: list[FastTfidf]
    _coef_t: np.ndarray
    _intercept: np.ndarray
    _session: Any
    _input_name: str
    _prob_output: str
    # Which stage-2 family the ONNX graph holds (bundles older than the field held a RandomForest).
    family: str = "random_forest"
    # The learned priority model (None for bundles without one: the rules alone decide, MEDIUM otherwise).
    priority_model: PriorityClassifier | None = None
    # Where the bundle lives: explanations load the stage-2 reference model from it on first use.
    bundle_dir: Path | None = None
    _explainer: tuple[Any, TermIndex] | None = field(default=None, repr=False, compare=False)
    _explainer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def load(cls, directory: Path, *, name: str, version: str) -> "ServedClassifier":
        meta = json.loads((directory / _META).read_text())
        if meta.get("feature_schema_version") != FEATURE_SCHEMA_VERSION:
            raise ValueError(f"bundle feature schema {meta.get('feature_schema_version')} does not match "
                             f"this code's {FEATURE_SCHEMA_VERSION}")
        union = joblib.load(directory / _VECTORIZER)
        text_model = joblib.load(directory / _TEXT_MODEL)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(str(directory / _FOREST_ONNX), sess_options=options,
                                       providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        return cls(name=name, version=str(version), classes=tuple(meta["classes"]),
                   temperature=float(meta["temperature"]),
                   _vectorizers=_fast_vectorizers([t for _, t in union.transformer_list]),
                   _coef_t=np.ascontiguousarray(text_model.coef_.T.astype(np.float64)),
                   _intercept=text_model.intercept_.astype(np.float64),
                   _session=session, _input_name=session.get_inputs()[0].name,
                   _prob_output=outputs[-1], family=str(meta.get("stage2_family", "random_forest")),
                   priority_model=_load_priority(directory), bundle_dir=directory)

    def _text_probs(self, texts: list[str], priority_out: np.ndarray | None = None) -> np.ndarray:
        """Text-model probabilities; with ``priority_out`` also the priority model's text logits (same features).

        One pass over the batch: each text's TF-IDF entries (characters, then words, by column) times the
        coefficient rows, summed per text. The sum runs the same way for a text alone or in a batch of 1000, so a
        batch answers exactly what single calls answer."""
        coef_p = self.priority_model.coef_text if priority_out is not None and self.priority_model else None
        # Columns in the union's order (characters, then words), each text's entries summed in that order by the
        # sparse product: the same sums as one text alone, and no (entries x classes) temporaries (issue 13).
        x = sparse_hstack([v.batch_features(texts) for v in self._vectorizers], format="csr")
        logits = np.asarray(x @ self._coef_t)
        if coef_p is not None and priority_out is not None:
            priority_out[:] = np.asarray(x @ coef_p)
        logits += self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict_with_priority(self, events: Sequence[EventInput], texts: EventTexts | None = None
                              ) -> tuple[np.ndarray, list[str]]:
        """Calibrated class probabilities and the final priority per event (rules wrapped around the learned
        priority model, which reads the predicted category), from one pass over the text. ``texts``: the events'
        normalised texts when the caller has them."""
        if not events:
            return np.zeros((0, len(self.classes))), []
        texts = EventTexts(events) if texts is None else texts
        model_texts = texts.model()
        prio_text = np.zeros((len(events), 3)) if self.priority_model is not None else None
        numeric = numeric_features(events)
        stage2 = np.hstack([self._text_probs(model_texts, prio_text), numeric])
        raw = self._session.run([self._prob_output], {self._input_name: stage2.astype(np.float32)})[0]
        probs = apply_temperature(np.asarray(raw, dtype=np.float64), self.temperature)
        if prio_text is None:
            return probs, [p.value for p in predict_priorities(events, [None] * len(events), texts.rules())]
        pm = self.priority_model
        assert pm is not None  # prio_text is only set when there is a priority model
        best = probs.argmax(axis=1)
        logits = prio_text + pm._rest(events, best, numeric) @ pm.coef_rest + pm.intercept
        learned = [pm.classes[i] for i in logits.argmax(axis=1).tolist()]
        return probs, [p.value for p in predict_priorities(events, learned, texts.rules())]

    def predict_proba(self, events: Sequence[EventInput]) -> np.ndarray:
        """Calibrated class probabilities, one row per event, columns in ``self.classes`` order."""
        if not events:
            return np.zeros((0, len(self.classes)))
        stage2 = np.hstack([self._text_probs([event_text(e) for e in events]), numeric_features(events)])
        raw = self._session.run([self._prob_output], {self._input_name: stage2.astype(np.float32)})[0]
        return apply_temperature(np.asarray(raw, dtype=np.float64), self.temperature)

    # --- explanations (models/explain.py): only when asked; nothing above pays for them ----------------------------

    def _explain_parts(self) -> tuple[Any, TermIndex]:
        """The stage-2 reference model and the TF-IDF column names, loaded on the first explanation."""
        parts = self._explainer
        if parts is None:
            with self._explainer_lock:
                if self._explainer is None:
                    if self.bundle_dir is None:
                        raise NotExplainable(f"Version {self.version} was not loaded from a bundle; it cannot "
                                             "explain.")
                    self._explainer = (joblib.load(self.bundle_dir / _FOREST),
                                       TermIndex.build([v.vocabulary() for v in self._vectorizers]))
                parts = self._explainer
        return parts

    def _stage2_inputs(self, events: Sequence[EventInput]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Stage-2 inputs exactly as served, and each event's TF-IDF (columns, values)."""
        rows = []
        for text in (event_text(e) for e in events):
            parts = [v.features(text) for v in self._vectorizers]
            rows.append((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])))
        logits = np.stack([values @ self._coef_t[idx] + self._intercept for idx, values in rows])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.hstack([exp / exp.sum(axis=1, keepdims=True), numeric_features(events)]), rows

    def explain(self, events: Sequence[EventInput]) -> list[dict[str, Any]]:
        """Per event: the top n-grams and time/context features with their signed contributions to the chosen
        class over the runner-up, which add up to the model's margin (``models/explain.py``). Raises
        NotExplainable (409) for a stage-2 family without an exact explainer or a forest over
        ``FOREST_SHAP_MAX_NODES`` nodes."""
        if not events:
            return []
        stage2, terms = self._explain_parts()
        nodes = forest_nodes(stage2)
        if nodes > FOREST_SHAP_MAX_NODES:
            raise NotExplainable(f"Version {self.version} serves a forest of {nodes} nodes, too large to explain "
                                 f"within a request (limit {FOREST_SHAP_MAX_NODES}); ask without explain.",
                                 details={"modelVersion": self.version, "nodes": nodes})
        z, rows = self._stage2_inputs(events)
        raw = np.asarray(self._session.run([self._prob_output], {self._input_name: z.astype(np.float32)})[0],
                         dtype=np.float64)
        served = apply_temperature(raw, self.temperature)
        phi, units, method = stage2_contributions(stage2, z)
        k = len(self.classes)
        return [explain_row(classes=self.classes, served=served[i], raw=raw[i], temperature=self.temperature,
                            phi=phi[i], units=units, method=method, numeric=z[i, k:], term_cols=rows[i][0],
                            term_values=rows[i][1], text_coef_t=self._coef_t, text_intercept=self._intercept,
                            terms=terms) for i in range(len(events))]

    def global_importance(self, events: Sequence[EventInput]) -> dict[str, Any]:
        """What drives each class over ``events`` (``explain.global_importance``; a forest reads at most
        ``FOREST_IMPORTANCE_ROWS`` of them). Raises NotExplainable for a family without an exact explainer."""
        stage2, terms = self._explain_parts()
        if forest_nodes(stage2):
            events = events[:FOREST_IMPORTANCE_ROWS]
        z, _rows = self._stage2_inputs(events)
        phi, units, method = stage2_contributions(stage2, z)
        return global_importance(classes=self.classes, phi=phi, units=units, method=method,
                                 text_coef_t=self._coef_t, terms=terms, rows=len(events))
