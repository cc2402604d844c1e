"""How long the knowledge-gap page's grouping takes, before and after the quadratic rewrite.

Times :func:`bot.domain.knowledge_gaps.cluster` (SciPy's average linkage) against the cubic
greedy loop it replaced (kept here as the reference), on the same unit vectors in one run:
questions drawn around topic centres in the FAQ model's 384 dimensions, as many topics as a
tenth of the questions. Both must group identically.

    .venv/bin/python -m bench.gap_clustering [--sizes 250 500 1000 2000] [--greedy-max 2000]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bot.domain.knowledge_gaps import SIMILARITY_THRESHOLD, cluster


def greedy(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """The former ``cluster``: merges the best pair of groups, recomputing every mean (cubic)."""
    count = len(vectors)
    similarity = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    groups: list[list[int]] = [[row] for row in range(count)]
    sums = similarity.copy()
    alive = np.ones(count, dtype=bool)
    sizes = np.ones(count)
    while alive.sum() > 1:
        means = sums / np.outer(sizes, sizes)
        means[~alive, :] = -np.inf
        means[:, ~alive] = -np.inf
        np.fill_diagonal(means, -np.inf)
        a, b = divmod(int(np.argmax(means)), count)
        if means[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        groups[a].extend(groups[b])
        groups[b] = []
        sums[a, :] += sums[b, :]
        sums[:, a] += sums[:, b]
        sizes[a] += sizes[b]
        alive[b] = False
    return [sorted(group) for group in groups if group]


def questions(count: int, seed: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, count // 10), 384))
    points = centres[rng.integers(0, len(centres), size=count)]
    points = points + rng.normal(scale=0.07, size=points.shape)
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gap_clustering")
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 5000])
    parser.add_argument("--greedy-max", type=int, default=2000, help="larger: greedy not run")
    args = parser.parse_args()
    print("| questions | groups | greedy (before) s | average linkage (now) s | same groups |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        vectors = questions(size)
        started = time.perf_counter()
        now = cluster(vectors, SIMILARITY_THRESHOLD)
        now_seconds = time.perf_counter() - started
        before, same = "not run", "-"
        if size <= args.greedy_max:
            started = time.perf_counter()
            reference = greedy(vectors, SIMILARITY_THRESHOLD)
            before = f"{time.perf_counter() - started:.2f}"
            same = "yes" if sorted(reference) == sorted(sorted(g) for g in now) else "NO"
        print(f"| {size} | {len(now)} | {before} | {now_seconds:.2f} | {same} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
