"""Chinese questions on the knowledge-gap page: do they come out grouped by meaning?

The gap page groups unanswered questions by average linkage over a cosine similarity
(:func:`bot.domain.knowledge_gaps.cluster_similarity`). The FAQ's embedding model reads English
only, so for Chinese we compare it with the lexical vectors of :mod:`bot.domain.gap_vectors`
(TF-IDF of jieba words and character 1-3-grams of the Simplified text, idf over the questions
grouped together), and a mix of the two.

Data: AFQMC (Alipay customer-service questions). Its same-meaning pairs link questions into
groups (connected components, 2-8 questions each); DEV and TEST take disjoint groups (with a
seed), and each pools the questions of its groups, as a gap page pools a month of unanswered
questions: many groups about the same few products (花呗, 借呗), which is what makes it hard.
Each method's threshold (and the mix's weight) is chosen on DEV by the adjusted Rand index of
its grouping against the gold groups; TEST is reported: ARI, and pair precision / recall (of
two questions put together, how often they mean the same; of two that mean the same, how often
they are put together), and how many groups came out.

    .venv/bin/python -m bench.gap_zh [--data ../shared/eval-data] [--groups 300] [--seed 16]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from bench.evaldata import clean, rng
from bot.domain.gap_vectors import chinese_vectors
from bot.domain.knowledge_gaps import cluster_similarity
from faq_index import Embedder

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "eval-data"
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.025), 3)


@dataclass(frozen=True)
class Pool:
    texts: list[str]
    gold: np.ndarray  # the gold group of each text


def gold_groups(data: Path, smallest: int = 2, largest: int = 8) -> list[list[str]]:
    """The connected components of AFQMC's same-meaning pairs, sized within the bounds."""
    parent: dict[str, str] = {}

    def root(text: str) -> str:
        parent.setdefault(text, text)
        while parent[text] != text:
            parent[text] = parent[parent[text]]
            text = parent[text]
        return text

    with (data / "afqmc_zh" / "train.txt").open(encoding="utf-8") as handle:
        for line in handle:
            first, second, label = line.rstrip("\n").split("\t")
            first, second = clean(first), clean(second)
            if label == "1" and first != second:
                parent[root(first)] = root(second)
    members: dict[str, list[str]] = defaultdict(list)
    for text in list(parent):
        members[root(text)].append(text)
    groups = [sorted(texts) for texts in members.values() if smallest <= len(texts) <= largest]
    return sorted(groups)


def pools(groups: list[list[str]], count: int, seed: int) -> tuple[Pool, Pool]:
    groups = list(groups)
    rng(seed, "gap_zh:groups").shuffle(groups)

    def pool(chosen: list[list[str]]) -> Pool:
        texts = [text for group in chosen for text in group]
        gold = np.array([number for number, group in enumerate(chosen) for _ in group])
        return Pool(texts, gold)

    return pool(groups[:count]), pool(groups[count : 2 * count])


def lexical(pool: Pool, _: Embedder) -> np.ndarray:
    rows = chinese_vectors(pool.texts)
    return np.asarray((rows @ rows.T).toarray())


def embedding(pool: Pool, embedder: Embedder) -> np.ndarray:
    vectors = np.asarray(embedder.encode(pool.texts, 64), dtype=np.float64)
    return vectors @ vectors.T


def labels(similarity: np.ndarray, threshold: float) -> np.ndarray:
    found = np.zeros(len(similarity), dtype=np.int64)
    for number, members in enumerate(cluster_similarity(similarity, threshold)):
        found[members] = number
    return found


def pair_scores(found: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    upper = np.triu_indices(len(gold), k=1)
    together = (found[:, None] == found[None, :])[upper]
    same = (gold[:, None] == gold[None, :])[upper]
    hits = int(np.sum(together & same))
    return hits / max(1, int(together.sum())), hits / max(1, int(same.sum()))


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gap_zh", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--groups", type=int, default=300, help="gold groups in DEV and in TEST")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    dev, test = pools(gold_groups(args.data), args.groups, args.seed)
    embedder = Embedder.load()
    similarity = {
        (method.__name__, name): method(pool, embedder)
        for method in (lexical, embedding)
        for name, pool in (("dev", dev), ("test", test))
    }
    candidates: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "lexical": (similarity["lexical", "dev"], similarity["lexical", "test"]),
        "embedding (FAQ model)": (similarity["embedding", "dev"], similarity["embedding", "test"]),
    }
    for weight in (0.25, 0.5, 0.75):
        candidates[f"{weight} lexical + {1 - weight} embedding"] = tuple(  # type: ignore[assignment]
            weight * similarity["lexical", split] + (1 - weight) * similarity["embedding", split]
            for split in ("dev", "test")
        )
    print(
        f"DEV {len(dev.texts)} questions in {len(set(dev.gold))} groups, TEST {len(test.texts)} "
        f"in {len(set(test.gold))}; seed {args.seed}"
    )
    print(
        "| similarity | threshold (DEV) | DEV ARI | TEST ARI | TEST pair precision | "
        "TEST pair recall | TEST groups |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (on_dev, on_test) in candidates.items():
        scores = {t: adjusted_rand_score(dev.gold, labels(on_dev, t)) for t in THRESHOLDS}
        threshold = max(scores, key=lambda t: (scores[t], -t))
        found = labels(on_test, threshold)
        precision, recall = pair_scores(found, test.gold)
        print(
            f"| {name} | {threshold:.3f} | {scores[threshold]:.3f} | "
            f"{adjusted_rand_score(test.gold, found):.3f} | {precision:.3f} | {recall:.3f} | "
            f"{len(set(found))} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
