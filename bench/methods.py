"""The retrieval methods the benchmark compares, behind one interface.

A method indexes a :class:`~bench.evaldata.Corpus` and ranks its entries for each query:
``run(corpus, queries)`` returns the build (or training) time, a :class:`Ranking` per query
and the latency of each single-query call. To add a method, subclass :class:`InProcessMethod`
(``fit`` and ``rank``) or implement ``run`` directly, as :class:`RasaSelector` does.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bench.evaldata import Corpus
from faq_index import Embedder, FaqEntry, FaqSearcher, LocalizedFaq, SearchSettings, build_index

TOP_N = 10
WARMUP_QUERIES = 5


class MethodError(RuntimeError):
    """A method could not be run; the benchmark reports it and goes on."""


@dataclass(frozen=True)
class Ranking:
    """Entry ids best first, with their scores when the method exposes them."""

    ids: list[str]
    scores: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    build_seconds: float
    rankings: list[Ranking]
    latencies_ms: list[float]


class Method(Protocol):
    name: str

    def run(self, corpus: Corpus, queries: Sequence[str]) -> Run: ...


class InProcessMethod(ABC):
    """A method that runs in this process: build once, then rank one query at a time."""

    name: str

    @abstractmethod
    def fit(self, corpus: Corpus) -> float:
        """Index ``corpus``; the seconds it took, excluding one-time model loading."""

    @abstractmethod
    def rank(self, query: str) -> Ranking:
        """The best :data:`TOP_N` entries for ``query``."""

    def close(self) -> None:  # noqa: B027 (an optional hook, not an abstract method)
        """Release what ``fit`` built."""

    def run(self, corpus: Corpus, queries: Sequence[str], warmup: int = WARMUP_QUERIES) -> Run:
        """Fit, rank ``warmup`` queries untimed, then time each query on its own."""
        seconds = self.fit(corpus)
        try:
            for query in queries[:warmup]:
                self.rank(query)
            rankings, latencies = [], []
            for query in queries:
                started = time.perf_counter()
                rankings.append(self.rank(query))
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            self.close()
        return Run(seconds, rankings, latencies)


def best_per_entry(
    rows: np.ndarray, scores: np.ndarray, variant_entry: np.ndarray, ids: Sequence[str]
) -> Ranking:
    """Rank entries by their best variant, given variant ``rows`` sorted best first."""
    entries = variant_entry[rows]
    _, first = np.unique(entries, return_index=True)
    first = np.sort(first)[:TOP_N]
    return Ranking([ids[e] for e in entries[first]], scores[first].tolist())


def flatten(corpus: Corpus) -> tuple[list[str], np.ndarray, list[str]]:
    """All variant texts, the entry position of each, and the entry ids by position."""
    ids = list(corpus.entries)
    texts = [text for entry in ids for text in corpus.entries[entry]]
    positions = [n for n, entry in enumerate(ids) for _ in corpus.entries[entry]]
    return texts, np.array(positions, dtype=np.int64), ids


class FaqSearch(InProcessMethod):
    """faq_index's :class:`FaqSearcher` over an index built in a temporary directory."""

    def __init__(self, name: str, embedder: Embedder, **settings: Any) -> None:
        self.name = name
        self.embedder = embedder
        self.settings = SearchSettings(**settings)
        self._directory: tempfile.TemporaryDirectory | None = None
        self._searcher: FaqSearcher | None = None

    def fit(self, corpus: Corpus) -> float:
        # The answer takes part in lexical matching; a label such as "card_arrival" would leak
        # the intent's name into it, so the benchmark's answers carry no words.
        entries = [
            FaqEntry(
                id=entry,
                category="bench",
                texts={corpus.language: LocalizedFaq(questions=tuple(texts), answer="-")},
            )
            for entry, texts in corpus.entries.items()
        ]
        self._directory = tempfile.TemporaryDirectory(prefix="faq-bench-")
        result = build_index(
            entries,
            self._directory.name,
            embedder=self.embedder,
            ann_threshold=self.settings.ann_threshold,
            onnx_cache_dir=self.settings.onnx_cache_dir or None,  # as `make index` builds
        )
        self._searcher = FaqSearcher(self._directory.name, self.settings)
        return result.seconds

    def rank(self, query: str) -> Ranking:
        matches = self._searcher.search(query, top_k=TOP_N).matches
        # The scores a Ranking carries are what decide() reads: the confidences.
        return Ranking([m.id for m in matches], [m.confidence for m in matches])

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._directory is not None:
            self._directory.cleanup()
        self._searcher = self._directory = None


class DenseKnn(InProcessMethod):
    """Plain MiniLM embeddings and an exact FAISS inner-product search over the variants."""

    name = "dense-knn"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def fit(self, corpus: Corpus) -> float:
        started = time.perf_counter()
        texts, self._variant_entry, self._ids = flatten(corpus)
        vectors = self.embedder.encode(texts)
        self._index = faiss.IndexFlatIP(vectors.shape[1])
        self._index.add(vectors)
        return time.perf_counter() - started

    def rank(self, query: str) -> Ranking:
        scores, rows = self._index.search(self.embedder.encode_query(query), self._index.ntotal)
        return best_per_entry(rows[0], scores[0], self._variant_entry, self._ids)


class Tfidf(InProcessMethod):
    """scikit-learn TF-IDF vectors and cosine nearest neighbour over the variants."""

    def __init__(self, name: str, **vectorizer: Any) -> None:
        self.name = name
        self.vectorizer_options = vectorizer

    def fit(self, corpus: Corpus) -> float:
        started = time.perf_counter()
        texts, self._variant_entry, self._ids = flatten(corpus)
        self._vectorizer = TfidfVectorizer(**self.vectorizer_options)
        self._matrix = self._vectorizer.fit_transform(texts)  # rows are L2-normalised
        return time.perf_counter() - started

    def rank(self, query: str) -> Ranking:
        vector = self._vectorizer.transform([query])
        scores = (self._matrix @ vector.T).toarray().ravel()
        rows = np.argsort(-scores, kind="stable")
        return best_per_entry(rows, scores[rows], self._variant_entry, self._ids)


class RasaSelector:
    """Rasa's ResponseSelector, trained and queried by ``bench.rasa_selector`` in its venv.

    ``module`` runs as ``python -m module`` from ``root`` (the repository's root).
    """

    name = "response-selector"

    def __init__(self, python: Path, module: str, root: Path, seed: int) -> None:
        self.python = python
        self.module = module
        self.root = root
        self.seed = seed

    def run(self, corpus: Corpus, queries: Sequence[str]) -> Run:
        if not self.python.is_file():
            raise MethodError(f"no Rasa interpreter at {self.python}")
        with tempfile.TemporaryDirectory(prefix="rasa-bench-") as tmp:
            directory = Path(tmp)
            train, asked, out = (directory / n for n in ("train.json", "queries.json", "out.json"))
            train.write_text(json.dumps({"entries": corpus.entries}), encoding="utf-8")
            asked.write_text(json.dumps(list(queries)), encoding="utf-8")
            command = [str(self.python), "-m", self.module, "--seed", str(self.seed)]
            command += ["--train", str(train), "--queries", str(asked), "--out", str(out)]
            process = subprocess.run(
                command, cwd=self.root, capture_output=True, text=True, check=False
            )
            if process.returncode != 0:
                tail = " | ".join(process.stderr.strip().splitlines()[-3:])
                raise MethodError(f"{self.module} exited with {process.returncode}: {tail}")
            output = json.loads(out.read_text(encoding="utf-8"))
        rankings = [Ranking(ids) for ids in output["predictions"]]
        return Run(output["train_seconds"], rankings, output["latency_ms"])
