"""Search an index: fuse three signals per entry and decide what to do.

Misspelt English words of the query are first corrected towards the words of the index
("pasword", "recieve", "u", "pls": :mod:`faq_index.spelling`), for both the embedding and the
lexical channel. Then every candidate entry (the entries of the nearest variants in FAISS, of
the best lexical matches and of the classifier's top classes) gets

- ``dense``: the mean of its best variant's cosine and its best language centroid's cosine
  (the centroid smooths over variants: it helps most when an entry has few of them);
- ``lexical``: the TF-IDF cosine (jieba words, character bigrams and characters, English stems)
  of the query with the entry's questions and answer taken together, best language;
- ``classifier``: the probability a softmax regression gives it: over the embeddings for
  English, over the lexical features for Chinese (:mod:`faq_index.chinese_classifier`; the
  default embedding model does not read Chinese);

and ``score = wd * dense + wl * lexical + wc * classifier`` with weights chosen by the query's
language (they sum to 1, so the score stays in [0, 1]). Entries are ranked by that score; the
decision reads a ``confidence``, the same signals with other weights, tuned to tell questions the
FAQ answers from questions it does not. The default embedding model is
English-only, so Chinese queries lean on the lexical features and English ones on the embeddings.
Thresholds, also by language, then turn the best confidences into a decision: ``answer``,
``clarify`` or ``escalate``. Weights and thresholds were chosen on development data (bench/RESULTS.md).

>>> searcher = FaqSearcher("var/faq_index")  # doctest: +SKIP
>>> result = searcher.search("Where is my order?")  # doctest: +SKIP
>>> result.decision, result.matches[0].id  # doctest: +SKIP
(<Decision.ANSWER: 'answer'>, 'order_track')
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from faq_index.chinese import search_form
from faq_index.embedding import Embedder
from faq_index.errors import QueryError
from faq_index.settings import SearchSettings
from faq_index.store import FaqIndex, current_version, load_index
from faq_index.text import detect_language

log = logging.getLogger(__name__)

DENSE_CANDIDATES = 64
CLASSIFIER_CANDIDATES = 16
LEXICAL_CANDIDATES = 16


class Decision(str, Enum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class FaqMatch:
    id: str
    score: float
    dense: float
    lexical: float
    classifier: float
    confidence: float  # the signals fused with the decision weights
    question: str  # the variant that matched best


@dataclass(frozen=True)
class SearchResult:
    query: str
    language: str
    decision: Decision
    matches: list[FaqMatch]
    version: str

    def to_json(self) -> dict[str, Any]:
        """The public ``query`` output contract: query, decision, results with id and score."""
        return {
            "query": self.query,
            "decision": self.decision.value,
            "results": [{"id": m.id, "score": round(m.score, 4)} for m in self.matches],
        }


def validate_query(query: str | bytes, max_chars: int) -> str:
    if isinstance(query, bytes):
        try:
            query = query.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(f"query is not valid UTF-8 (byte {exc.start})") from exc
    if not isinstance(query, str):
        raise QueryError(f"query must be text, got {type(query).__name__}")
    text = query.strip()
    if not text:
        raise QueryError("query is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: OpenCC and the tokenizers take UTF-8
        raise QueryError(f"query is not valid text (character {exc.start})") from exc
    if len(text) > max_chars:
        raise QueryError(f"query is {len(text)} characters long; the limit is {max_chars}")
    return text


def decide(confidences: list[float], settings: SearchSettings, language: str = "en") -> Decision:
    """The decision from the confidences of the best-ranked entry and the runner-up.

    Escalate ("not found") below the language's clarify threshold; answer from the answer
    threshold on when the runner-up is at least the margin behind; clarify ("did you mean")
    otherwise. bench/tune.py chooses the thresholds for what customers get (bench/RESULTS.md).

    Args:
        confidences: the best-ranked entries' confidences, best first (two are read).
        settings: where the thresholds come from (:meth:`SearchSettings.thresholds`).
        language: the query's language, ``"zh"`` or ``"en"``.

    Returns:
        The :class:`Decision`.

    >>> decide([0.9, 0.4], SearchSettings()), decide([0.1], SearchSettings())
    (<Decision.ANSWER: 'answer'>, <Decision.ESCALATE: 'escalate'>)
    """
    answer_threshold, clarify_threshold, margin = settings.thresholds(language)
    if not confidences or confidences[0] < clarify_threshold:
        return Decision.ESCALATE
    runner_up = confidences[1] if len(confidences) > 1 else 0.0
    if confidences[0] >= answer_threshold and confidences[0] - runner_up >= margin:
        return Decision.ANSWER
    return Decision.CLARIFY


class _Snapshot:
    """An index version with the embedder it was built with; swapped as one reference."""

    def __init__(self, index: FaqIndex, embedder: Embedder, onnx_cache_dir: str) -> None:
        self.index = index
        onnx = embedder.onnx_embedder(onnx_cache_dir) if onnx_cache_dir else None
        self.encode_query = onnx.encode_query if onnx is not None else embedder.encode_query
        self.rows_by_entry: list[list[int]] = [[] for _ in index.entries]
        groups: dict[tuple[int, str], list[int]] = {}
        for row, variant in enumerate(index.variants):
            self.rows_by_entry[variant.entry].append(row)
            groups.setdefault((variant.entry, variant.language), []).append(row)
        self.centroids_by_entry: list[list[int]] = [[] for _ in index.entries]
        centroids: list[np.ndarray] = []
        for (entry, _), rows in groups.items():
            self.centroids_by_entry[entry].append(len(centroids))
            mean = index.vectors[rows].mean(axis=0)
            centroids.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
        self.centroids = np.asarray(centroids, dtype=np.float32).reshape(-1, index.vectors.shape[1])


class FaqSearcher:
    """Searches the current version of an index directory and follows new versions.

    ``watch()`` starts a background thread that loads a newly published version and swaps it
    in; requests in flight finish on the version they started with, none waits for the load.
    """

    def __init__(self, index_dir: str | Path, settings: SearchSettings | None = None) -> None:
        # One query at a time: FAISS's OpenMP threads only add synchronisation, which on busy
        # shared cores makes a search many times slower than on one thread (bench/RESULTS.md).
        faiss.omp_set_num_threads(1)
        self.index_dir = Path(index_dir)
        self.settings = settings or SearchSettings()
        self._snapshot = self._load(current_version(self.index_dir))
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def index(self) -> FaqIndex:
        return self._snapshot.index

    @property
    def version(self) -> str:
        return self._snapshot.index.version

    def _load(self, version: str | None) -> _Snapshot:
        index = load_index(self.index_dir, version)
        return _Snapshot(index, Embedder.load(index.model), self.settings.onnx_cache_dir)

    def reload(self) -> bool:
        """Switch to the published version if it changed; True when it did."""
        with self._reload_lock:
            published = current_version(self.index_dir)
            if not published or published == self.version:
                return False
            try:
                snapshot = self._load(published)
            except Exception:
                log.exception(
                    "cannot load FAQ index version %s; keeping %s", published, self.version
                )
                return False
            self._snapshot = snapshot
            log.info("switched to FAQ index version %s", published)
            return True

    def watch(self, interval: float | None = None) -> None:
        """Poll for new versions every ``interval`` seconds in a daemon thread."""
        if self._watcher is not None:
            return
        period = interval or self.settings.reload_interval

        def loop() -> None:
            while not self._stop.wait(period):
                self.reload()

        self._watcher = threading.Thread(target=loop, name="faq-index-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None

    def search(self, query: str | bytes, top_k: int = 3) -> SearchResult:
        """Rank entries for ``query``; raises :class:`QueryError` for unusable input."""
        asked = validate_query(query, self.settings.max_query_chars)
        text = search_form(asked)  # Traditional Chinese is searched in Simplified
        snapshot = self._snapshot
        index = snapshot.index
        language = detect_language(text)
        searched = index.lexical.correct(text)  # normalised; typos of indexed words corrected
        query_vector = snapshot.encode_query(searched)
        lexical = index.lexical.scores(searched)

        k = min(DENSE_CANDIDATES, len(index.variants))
        _, dense_rows = index.dense.search(query_vector, k)
        lexical_entry = np.zeros(len(index.entries), dtype=np.float32)
        np.maximum.at(lexical_entry, index.document_entry, lexical)
        lexical_top = np.argsort(-lexical_entry)[:LEXICAL_CANDIDATES]
        candidates = np.union1d(index.variant_entry[dense_rows[0][dense_rows[0] >= 0]], lexical_top)

        if language == "zh":  # the embeddings do not read Chinese; the lexical features do
            probabilities = index.chinese_classifier.probabilities(searched)
        else:
            probabilities = index.classifier.probabilities(query_vector)
        classifier_rows = np.argsort(-probabilities)[:CLASSIFIER_CANDIDATES]
        candidates = np.union1d(candidates, classifier_rows)
        centroid_scores = snapshot.centroids @ query_vector[0]

        ranking = np.asarray(self.settings.weights(language))
        deciding = np.asarray(self.settings.decision_weights(language))
        matches = []
        for entry in candidates:
            rows = snapshot.rows_by_entry[entry]
            cosines = index.vectors[rows] @ query_vector[0]
            best = int(np.argmax(cosines))
            centroid = float(centroid_scores[snapshot.centroids_by_entry[entry]].max())
            dense = max(0.0, 0.5 * (float(cosines[best]) + centroid))
            signals = np.array([dense, float(lexical_entry[entry]), float(probabilities[entry])])
            matches.append(
                FaqMatch(
                    id=index.entries[entry].id,
                    score=float(ranking @ signals),
                    dense=dense,
                    lexical=float(signals[1]),
                    classifier=float(signals[2]),
                    confidence=float(deciding @ signals),
                    question=index.variants[rows[best]].text,
                )
            )
        matches.sort(key=lambda m: m.score, reverse=True)
        decision = decide([m.confidence for m in matches[:2]], self.settings, language)
        return SearchResult(asked, language, decision, matches[:top_k], index.version)
