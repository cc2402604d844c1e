"""Read the public evaluation data (``../shared/eval-data``) and split it reproducibly.

Every random choice takes its own generator, seeded with the run's seed and a label naming the
choice, so that changing one subset (say, fewer queries) leaves the others as they were.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class Corpus:
    """What a method indexes: question variants per entry id, all in one language."""

    language: str
    entries: dict[str, list[str]]

    @property
    def variants(self) -> int:
        return sum(len(texts) for texts in self.entries.values())


@dataclass(frozen=True)
class Example:
    """A query and the id of the entry that answers it (``None``: nothing does)."""

    text: str
    gold: str | None


@dataclass(frozen=True)
class IntentSplit:
    """Per intent: the pool (shuffled, variants are drawn from it), DEV and TEST rows."""

    pool: dict[str, list[str]]
    dev: list[Example]
    test: list[Example]
    seed: int

    def corpus(self, k: int | None, intents: Sequence[str] | None = None, draw: int = 0) -> Corpus:
        """``k`` pool texts (all when ``None``) of each intent as entries.

        Draw 0 takes the front of each shuffled pool; draw ``d > 0`` an independent random
        choice of ``k`` texts, so that a figure can be repeated over several draws: with a few
        variants per entry, which ones were drawn moves top-1 by a point or more.
        """
        chosen = self.pool if intents is None else {i: self.pool[i] for i in intents}
        if k is None or draw == 0:
            return Corpus("en", {intent: texts[:k] for intent, texts in chosen.items()})
        return Corpus(
            "en",
            {
                intent: sample(texts, k, self.seed, f"draw:{draw}:{intent}")
                for intent, texts in chosen.items()
            },
        )


def rng(seed: int, purpose: str) -> random.Random:
    """A generator for one named random choice of a run."""
    return random.Random(f"{seed}:{purpose}")


def sample(items: Sequence[T], n: int | None, seed: int, purpose: str) -> list[T]:
    """At most ``n`` of ``items`` (all when ``None``), chosen by ``purpose``, in their order."""
    if n is None or n >= len(items):
        return list(items)
    picked = sorted(rng(seed, purpose).sample(range(len(items)), n))
    return [items[i] for i in picked]


def clean(text: str) -> str:
    """Collapse white space: a few banking77 texts contain line breaks."""
    return " ".join(text.split())


def entry_id(label: str) -> str:
    """A faq_index-valid entry id for a label (``reverted_card_payment?`` has a ``?``)."""
    return _ID_UNSAFE.sub("_", label)


def load_banking77(data: Path) -> dict[str, list[str]]:
    """The texts of each banking77 intent (keyed by :func:`entry_id`), in file order."""
    texts: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    with (data / "banking77" / "train.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = entry_id(row["category"])
            if labels.setdefault(key, row["category"]) != row["category"]:
                raise ValueError(f"intents {labels[key]!r} and {row['category']!r} share id {key}")
            if text := clean(row["text"]):
                texts.setdefault(key, []).append(text)
    return texts


def split_intents(
    texts: dict[str, list[str]], seed: int, test_share: float = 0.2, dev_share: float = 0.1
) -> IntentSplit:
    """Shuffle each intent's rows and cut them into TEST, DEV and the pool, in that order."""
    pool: dict[str, list[str]] = {}
    dev: list[Example] = []
    test: list[Example] = []
    for intent in sorted(texts):
        rows = list(texts[intent])
        rng(seed, f"split:{intent}").shuffle(rows)
        n_test, n_dev = round(len(rows) * test_share), round(len(rows) * dev_share)
        test.extend(Example(text, intent) for text in rows[:n_test])
        dev.extend(Example(text, intent) for text in rows[n_test : n_test + n_dev])
        pool[intent] = rows[n_test + n_dev :]
    return IntentSplit(pool, dev, test, seed)


def load_afqmc_pairs(data: Path) -> list[tuple[int, str, str]]:
    """The positive (same meaning) AFQMC pairs as ``(line number, sentence1, sentence2)``."""
    pairs = []
    with (data / "afqmc_zh" / "train.txt").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            first, second, label = line.rstrip("\n").split("\t")
            if label == "1":
                pairs.append((number, clean(first), clean(second)))
    return pairs


def afqmc_benchmark(pairs: Sequence[tuple[int, str, str]]) -> tuple[Corpus, list[Example]]:
    """Index the second sentences (one entry per distinct text), query with the first ones.

    A second sentence that occurs in several pairs becomes one entry, named after its first
    line, and is the gold entry of all of those pairs' queries.
    """
    ids: dict[str, str] = {}
    for number, _, second in pairs:
        ids.setdefault(second, f"r{number}")
    corpus = Corpus("zh", {entry: [text] for text, entry in ids.items()})
    return corpus, [Example(first, ids[second]) for _, first, second in pairs]


def latency_corpus(split: IntentSplit, entries: int, size: int, seed: int) -> Corpus:
    """Synthetic entries of ``size`` pool texts of one intent each, ``entries`` of them at most."""
    groups = [
        texts[start : start + size]
        for texts in split.pool.values()
        for start in range(0, len(texts) - size + 1, size)
    ]
    rng(seed, "latency").shuffle(groups)
    return Corpus("en", {f"g{n}": group for n, group in enumerate(groups[:entries])})
