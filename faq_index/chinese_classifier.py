"""The entry classifier for Chinese queries: a softmax regression over their lexical features.

The default embedding model reads English only: on Chinese its vectors, and the embedding
classifier over them (:mod:`faq_index.entry_classifier`), are noise. This one is trained at
every index build on the Chinese variants (Simplified, as queries are searched) with the
features the lexical channel reads (jieba words, character bigrams and characters:
:func:`faq_index.text.lexical_tokens`) plus character trigrams, TF-IDF weighted and
L2-normalised. Where the lexical channel scores each entry on its own, the classifier learns
which features tell an entry from its neighbours (退款多久到账 vs 退款显示成功没到账), and
its probability becomes the classifier signal of Chinese queries.

Features no variant has still count in a query's norm (as in
:meth:`faq_index.lexical.LexicalIndex.query_vector`): a question mostly about something else
gets a flat distribution, not a confident one.

>>> classifier = ChineseEntryClassifier.train(
...     ["退款多久到账", "退款什么时候到", "怎么查物流", "快递到哪了"], [0, 0, 1, 1], entries=2
... )
>>> [round(float(p), 1) for p in classifier.probabilities("退款几天到账")]
[0.8, 0.2]
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faq_index.chinese import search_form
from faq_index.entry_classifier import fit_softmax
from faq_index.text import chinese_tokens

# sklearn's C (the inverse strength of the L2 penalty), chosen on the development queries of
# bench/tune.py (bench/RESULTS.md).
DEFAULT_C = 30.0
MAX_ITERATIONS = 200
# At most this many weights (features x entries): L-BFGS keeps about 2 * HISTORY copies of
# them, so an FAQ of thousands of Chinese entries keeps only its most frequent features
# (a 67-entry FAQ keeps all of its few thousand).
MAX_WEIGHTS = 4_000_000
HISTORY = 10
WEIGHTS_FILE = "chinese_head.npz"
VOCABULARY_FILE = "chinese_head_vocab.json"


def chinese_features(text: str) -> list[str]:
    """The classifier's features of any Chinese text: :func:`~faq_index.text.chinese_tokens` of
    its search form (:func:`~faq_index.chinese.search_form`: Traditional and Cantonese folded
    into Simplified Mandarin), for comparing Chinese texts as this index reads them.

    >>> chinese_features("退款"), chinese_features("幾天到賬") == chinese_features("几天到账")
    (['w:退款', 'c:退', 'c:款', 'b:退款'], True)
    """
    return chinese_tokens(search_form(text))


@dataclass(frozen=True)
class ChineseEntryClassifier:
    """Feature vocabulary and idf, one weight column and one bias per entry."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # (features,)
    weights: np.ndarray  # (features, entries)
    bias: np.ndarray  # (entries,)

    @classmethod
    def train(
        cls, texts: Sequence[str], labels: Sequence[int], entries: int, c: float = DEFAULT_C
    ) -> ChineseEntryClassifier:
        """Fit softmax regression of ``labels`` (entry positions) on the features of ``texts``
        (Chinese variants, in the form queries are searched). No text: every entry equally
        likely, whatever the query."""
        documents = [Counter(chinese_tokens(text)) for text in texts]
        frequency = Counter(token for counts in documents for token in counts)
        kept = frequency.most_common(max(1, MAX_WEIGHTS // max(entries, 1)))
        vocabulary = {token: column for column, (token, _) in enumerate(kept)}
        df = np.array([count for _, count in kept], dtype=np.float64)
        idf = (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)
        if not vocabulary:
            return cls(
                vocabulary, idf, np.zeros((0, entries), np.float32), np.zeros(entries, np.float32)
            )
        empty = cls(vocabulary, idf, np.zeros((0, entries), np.float32), np.zeros(0, np.float32))
        rows = [empty._features(counts) for counts in documents]
        weights, bias = _fit(rows, np.asarray(labels, dtype=np.int64), len(vocabulary), entries, c)
        return cls(vocabulary, idf, weights, bias)

    def _features(self, counts: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of one text's normalised TF-IDF vector."""
        unseen_idf = float(self.idf.max()) if len(self.idf) else 1.0
        columns, values, norm = [], [], 0.0
        for token, count in counts.items():
            column = self.vocabulary.get(token)
            value = (1 + math.log(count)) * (unseen_idf if column is None else self.idf[column])
            norm += value * value
            if column is not None:
                columns.append(column)
                values.append(value)
        scale = 1.0 / math.sqrt(norm) if norm else 0.0
        return np.asarray(columns, dtype=np.int64), np.asarray(values, np.float32) * scale

    def probabilities(self, text: str) -> np.ndarray:
        """Softmax over entries for one query (in the form queries are searched)."""
        columns, values = self._features(Counter(chinese_tokens(text)))
        logits = values @ self.weights[columns] + self.bias
        logits = logits - logits.max()
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(), dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write the classifier into the index version being built in ``directory``."""
        np.savez(directory / WEIGHTS_FILE, idf=self.idf, weights=self.weights, bias=self.bias)
        (directory / VOCABULARY_FILE).write_text(
            json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> ChineseEntryClassifier:
        """Read the classifier of the index version in ``directory`` (:meth:`save`)."""
        vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE) as data:
            return cls(vocabulary, data["idf"], data["weights"], data["bias"])


def _fit(
    rows: list[tuple[np.ndarray, np.ndarray]],
    labels: np.ndarray,
    features: int,
    entries: int,
    c: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch L-BFGS on the sparse feature rows, as :class:`EntryClassifier` does."""
    import torch

    indices = np.concatenate(
        [np.stack([np.full(len(cols), row), cols]) for row, (cols, _) in enumerate(rows)], axis=1
    )
    values = np.concatenate([vals for _, vals in rows])
    x = torch.sparse_coo_tensor(
        torch.from_numpy(indices),
        torch.from_numpy(values),
        (len(rows), features),
        check_invariants=True,
    ).coalesce()
    return fit_softmax(x, labels, entries, c, MAX_ITERATIONS, HISTORY)
