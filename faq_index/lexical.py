"""A TF-IDF index over the tokens of :func:`faq_index.text.lexical_tokens`.

Scores are cosines in [0, 1] between the query and each document (sublinear term
frequency, smoothed idf, L2-normalised rows), so they sit on a scale comparable with the dense
cosines they are fused with. The search indexes one document per entry and language: its
questions and answer together (see ``store.lexical_documents``). The index also keeps the
documents' English words, towards which the searcher corrects misspelt query words
(:meth:`LexicalIndex.correct`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import sparse

from faq_index.spelling import Speller, english_words
from faq_index.text import lexical_tokens


class LexicalIndex:
    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        matrix: sparse.csr_matrix,
        words: dict[str, int] | None = None,
    ):
        self.vocabulary = vocabulary
        self.idf = idf
        self.matrix = matrix  # (documents, terms), rows L2-normalised
        self.words = words or {}  # English words of the documents: in how many each occurs

    @cached_property
    def speller(self) -> Speller:
        """Corrects query words towards :attr:`words` (built on first use)."""
        return Speller(self.words)

    def correct(self, text: str) -> str:
        """``text`` normalised, with misspelt and informal English words corrected towards the
        words of the documents (see :mod:`faq_index.spelling`); an index saved without its
        words (built before TOKENIZER_VERSION 3) only gets the informal spellings expanded."""
        return self.speller.correct(text)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        documents = [Counter(lexical_tokens(text)) for text in texts]
        words = Counter(word for text in texts for word in set(english_words(text)))
        vocabulary: dict[str, int] = {}
        for counts in documents:
            for token in counts:
                vocabulary.setdefault(token, len(vocabulary))
        df = np.zeros(len(vocabulary), dtype=np.float64)
        for counts in documents:
            for token in counts:
                df[vocabulary[token]] += 1
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
        rows, cols, values = [], [], []
        for row, counts in enumerate(documents):
            for token, count in counts.items():
                rows.append(row)
                cols.append(vocabulary[token])
                values.append((1 + math.log(count)) * idf[vocabulary[token]])
        matrix = sparse.csr_matrix(
            (values, (rows, cols)), shape=(len(texts), len(vocabulary)), dtype=np.float32
        )
        return cls(vocabulary, idf.astype(np.float32), _normalize_rows(matrix), dict(words))

    def query_vector(self, text: str) -> sparse.csr_matrix:
        """The query's normalised tf-idf vector over the known terms.

        Terms no document contains still count in the norm, at the highest idf: a query that is
        mostly about something else (北京天气 next to 今天) must not score like an exact match.
        """
        counts = Counter(lexical_tokens(text))
        unseen_idf = float(self.idf.max()) if len(self.idf) else 1.0
        known = {t: c for t, c in counts.items() if t in self.vocabulary}
        values = [(1 + math.log(c)) * self.idf[self.vocabulary[t]] for t, c in known.items()]
        unseen = [(1 + math.log(c)) * unseen_idf for t, c in counts.items() if t not in known]
        norm = math.sqrt(sum(v * v for v in values) + sum(v * v for v in unseen)) or 1.0
        cols = [self.vocabulary[t] for t in known]
        return sparse.csr_matrix(
            (np.array(values, dtype=np.float32) / norm, ([0] * len(cols), cols)),
            shape=(1, len(self.vocabulary)),
            dtype=np.float32,
        )

    def scores(self, text: str) -> np.ndarray:
        """Cosine of ``text`` with every document, as a dense float32 array."""
        vector = self.query_vector(text)
        if vector.nnz == 0:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray((self.matrix @ vector.T).todense(), dtype=np.float32).ravel()

    def save(self, directory: Path) -> None:
        sparse.save_npz(directory / "lexical.npz", self.matrix)
        np.save(directory / "lexical_idf.npy", self.idf)
        (directory / "lexical_vocab.json").write_text(
            json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8"
        )
        (directory / "lexical_words.json").write_text(
            json.dumps(self.words, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        vocabulary = json.loads((directory / "lexical_vocab.json").read_text(encoding="utf-8"))
        idf = np.load(directory / "lexical_idf.npy")
        matrix = sparse.csr_matrix(sparse.load_npz(directory / "lexical.npz"))
        words_file = directory / "lexical_words.json"
        words = json.loads(words_file.read_text(encoding="utf-8")) if words_file.is_file() else {}
        return cls(vocabulary, idf, matrix, words)


def _normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)
