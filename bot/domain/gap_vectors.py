"""Vectors of unanswered Chinese questions for the knowledge-gap page's grouping.

The FAQ's embedding model reads English only: its vectors of two Chinese questions say little
about whether they mean the same (``bench/gap_zh.py``). Chinese questions are compared by what
they are made of instead: jieba words and character 1-3-grams of their Simplified form (the
features of the FAQ's Chinese classifier, Traditional and Cantonese folded as searches fold
them), TF-IDF weighted with the idf of the questions grouped together, rows L2-normalised, so
that a row product is a cosine like the embeddings'.

>>> rows = chinese_vectors(["退款多久到账", "退款幾天到賬", "怎么修改收货地址"])
>>> similarity = (rows @ rows.T).toarray()
>>> bool(similarity[0, 1] > similarity[0, 2]), round(float(similarity[0, 0]), 3)
(True, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from faq_index import chinese_features


def chinese_vectors(texts: Sequence[str]) -> csr_matrix:
    """One L2-normalised TF-IDF row per text (sparse); idf over ``texts``. A text without any
    Chinese feature gets a row of zeros (similar to nothing)."""
    if not texts:
        return csr_matrix((0, 0))
    vectorizer = TfidfVectorizer(analyzer=chinese_features, sublinear_tf=True, norm="l2")
    try:
        return csr_matrix(vectorizer.fit_transform(texts))
    except ValueError:  # no text has any feature
        return csr_matrix((len(texts), 0))
