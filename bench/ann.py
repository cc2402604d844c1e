"""Where exact FAISS search stops being fast enough: flat inner product vs HNSW by index size.

    .venv/bin/python -m bench.ann [--sizes 10000,50000,100000,200000] [--queries 200]

Vectors are real sentence embeddings (banking77 texts, 384 dimensions) repeated with small
noise to reach each size, so that their distribution is that of FAQ variants. Reports the
median and p95 latency of one query, HNSW's recall@10 against the exact result, and build time.
FAQ search asks FAISS for 64 neighbours per query; the rest of a query costs about 10 ms.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from faq_index import Embedder
from faq_index.store import dense_index

REPO = Path(__file__).resolve().parent.parent


def corpus(data: Path, limit: int = 3000) -> np.ndarray:
    with open(data / "banking77" / "train.csv", encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)][:limit]
    return Embedder.load().encode(texts)


def grow(base: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    picks = base[rng.integers(0, len(base), size)]
    noisy = picks + rng.normal(0, 0.05, picks.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def timed_search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, rows = index.search(query[None, :], k)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(rows[0])
    return latencies, np.array(found)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ann", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "eval-data")
    parser.add_argument("--sizes", default="10000,50000,100000,200000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    faiss.omp_set_num_threads(1)  # as FaqSearcher does: one query at a time
    rng = np.random.default_rng(5)
    base = corpus(args.data)
    queries = grow(base, args.queries, rng)
    print(
        "| variants | exact p50 ms | exact p95 ms | HNSW p50 ms | HNSW p95 ms | HNSW recall@10 | HNSW build s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in map(int, args.sizes.split(",")):
        vectors = grow(base, size, rng)
        exact = dense_index(vectors, ann_threshold=size)
        started = time.perf_counter()
        hnsw = dense_index(vectors, ann_threshold=0)
        build = time.perf_counter() - started
        exact_ms, exact_rows = timed_search(exact, queries, 64)
        hnsw_ms, hnsw_rows = timed_search(hnsw, queries, 64)
        recall = np.mean(
            [
                len(set(a[:10]) & set(b[:10])) / 10
                for a, b in zip(exact_rows, hnsw_rows, strict=True)
            ]
        )
        print(
            f"| {size} | {np.median(exact_ms):.2f} | {np.percentile(exact_ms, 95):.2f} "
            f"| {np.median(hnsw_ms):.2f} | {np.percentile(hnsw_ms, 95):.2f} | {recall:.3f} | {build:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
