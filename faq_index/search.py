"""Search an index: fuse dense and lexical scores per entry and decide what to do.

For each query, FAISS returns the nearest question variants and the lexical index scores every
variant; each candidate entry gets the best cosine of its variants on both channels, and

    score = w(lang) * dense + (1 - w(lang)) * lexical

with ``w`` chosen by the query's language: the default embedding model is English-only, so
Chinese queries lean on the lexical channel (jieba words and character bigrams) and English
ones on the embeddings. Both channels are cosines, so the fused score stays in [0, 1] and one
set of thresholds turns it into a decision (``answer``, ``clarify`` or ``escalate``).

>>> searcher = FaqSearcher("var/faq_index")  # doctest: +SKIP
>>> result = searcher.search("where is my parcel?")  # doctest: +SKIP
>>> result.decision, result.matches[0].id  # doctest: +SKIP
(<Decision.ANSWER: 'answer'>, 'order_track')
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from faq_index.embedding import Embedder
from faq_index.errors import QueryError
from faq_index.settings import SearchSettings
from faq_index.store import FaqIndex, current_version, load_index
from faq_index.text import detect_language, normalize

log = logging.getLogger(__name__)

DENSE_CANDIDATES = 64


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
    question: str  # the variant that matched best


@dataclass(frozen=True)
class SearchResult:
    query: str
    language: str
    decision: Decision
    matches: list[FaqMatch]
    version: str

    def to_json(self) -> dict:
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
    if len(text) > max_chars:
        raise QueryError(f"query is {len(text)} characters long; the limit is {max_chars}")
    return text


def decide(scores: list[float], settings: SearchSettings) -> Decision:
    """The decision for entry scores sorted best first."""
    if not scores or scores[0] < settings.clarify_threshold:
        return Decision.ESCALATE
    runner_up = scores[1] if len(scores) > 1 else 0.0
    if scores[0] >= settings.answer_threshold and scores[0] - runner_up >= settings.clarify_margin:
        return Decision.ANSWER
    return Decision.CLARIFY


class _Snapshot:
    """An index version with the embedder it was built with; swapped as one reference."""

    def __init__(self, index: FaqIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.rows_by_entry = [[] for _ in index.entries]
        for row, variant in enumerate(index.variants):
            self.rows_by_entry[variant.entry].append(row)


class FaqSearcher:
    """Searches the current version of an index directory and follows new versions.

    ``watch()`` starts a background thread that loads a newly published version and swaps it
    in; requests in flight finish on the version they started with, none waits for the load.
    """

    def __init__(self, index_dir: str | Path, settings: SearchSettings | None = None) -> None:
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
        return _Snapshot(index, Embedder.load(index.model))

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
        text = validate_query(query, self.settings.max_query_chars)
        snapshot = self._snapshot
        index = snapshot.index
        language = detect_language(text)
        query_vector = snapshot.embedder.encode_query(normalize(text))
        lexical = index.lexical.scores(text)

        k = min(DENSE_CANDIDATES, len(index.variants))
        _, dense_rows = index.dense.search(query_vector, k)
        lexical_rows = np.argpartition(-lexical, k - 1)[:k] if k < len(lexical) else np.arange(k)
        rows = np.concatenate([dense_rows[0][dense_rows[0] >= 0], lexical_rows])
        candidates = np.unique(index.variant_entry[rows])

        weight = self.settings.dense_weight(language)
        matches = []
        for entry in candidates:
            rows = snapshot.rows_by_entry[entry]
            dense = index.vectors[rows] @ query_vector[0]
            best = int(np.argmax(dense))
            dense_score = float(dense[best])
            lexical_score = float(lexical[rows].max())
            matches.append(
                FaqMatch(
                    id=index.entries[entry].id,
                    score=weight * max(dense_score, 0.0) + (1 - weight) * lexical_score,
                    dense=dense_score,
                    lexical=lexical_score,
                    question=index.variants[rows[best]].text,
                )
            )
        matches.sort(key=lambda m: m.score, reverse=True)
        decision = decide([m.score for m in matches], self.settings)
        return SearchResult(text, language, decision, matches[:top_k], index.version)
