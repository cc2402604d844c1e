"""The knowledge-gap loop's data: an FAQ missing some intents, and the questions customers ask.

Of the intents (banking77's, read at run time), a fixed share is held out of the FAQ; the
others are its entries, ``k`` variants each, as in the retrieval benchmark. The held-out
intents' questions are cut per intent into a DEV stream (asked during the "week": they land
among the knowledge gaps, and anything tuned is tuned on them) and a TEST stream (asked after
the agents acted: only measured). The kept-in intents' own DEV and TEST rows check that what
agents add does not take their questions over.

>>> setup = gap_setup(load_banking77(DATA), seed=13)  # doctest: +SKIP
>>> len(setup.held_out), len(setup.dev_stream) > 0  # doctest: +SKIP
(15, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bench.evaldata import Corpus, Example, rng, sample, split_intents

HELD_OUT_SHARE = 0.2


@dataclass(frozen=True)
class GapSetup:
    """What one run of the loop asks and knows.

    ``faq``: the kept-in intents, each an entry (id = intent) with its variants.
    ``dev_stream`` / ``test_stream``: held-out intents' questions, gold = their intent.
    ``kept_dev`` / ``kept_test``: kept-in intents' questions never indexed, gold = their entry.
    """

    faq: Corpus
    held_out: tuple[str, ...]
    dev_stream: list[Example]
    test_stream: list[Example]
    kept_dev: list[Example]
    kept_test: list[Example]

    @cached_property
    def dev_intents(self) -> dict[str, str]:
        """The intent of each DEV-stream question, by its text."""
        intents: dict[str, str] = {}
        for example in self.dev_stream:
            if example.gold is not None:
                intents.setdefault(example.text, example.gold)
        return intents


def gap_setup(
    texts: dict[str, list[str]],
    seed: int,
    k: int | None = 20,
    held_out_share: float = HELD_OUT_SHARE,
    per_intent: int | None = None,
    kept_queries: int | None = None,
) -> GapSetup:
    """Hold out ``held_out_share`` of the intents of ``texts`` and build the streams.

    Args:
        texts: questions per intent (:func:`bench.evaldata.load_banking77`).
        seed: every random choice derives from it (the held-out intents are those of the
            retrieval benchmark's escalation section for the same seed and intents).
        k: variants per kept-in entry (``None``: the intent's whole pool).
        per_intent: at most this many questions of each held-out intent (``None``: all), cut
            half into DEV, half into TEST.
        kept_queries: at most this many kept-in DEV and TEST questions each (``None``: all).

    Raises:
        ValueError: fewer than two intents, or a share that holds out none or all of them.
    """
    intents = sorted(texts)
    count = round(len(intents) * held_out_share)
    if len(intents) < 2 or not 0 < count < len(intents):
        raise ValueError(
            f"cannot hold out {held_out_share:.0%} of {len(intents)} intents: "
            "at least one must be held out and one kept"
        )
    held_out = sorted(rng(seed, "held-out").sample(intents, count))
    kept = [intent for intent in intents if intent not in held_out]
    split = split_intents({intent: texts[intent] for intent in kept}, seed)
    dev_stream: list[Example] = []
    test_stream: list[Example] = []
    for intent in held_out:
        rows = list(dict.fromkeys(texts[intent]))
        rng(seed, f"stream:{intent}").shuffle(rows)
        rows = rows[:per_intent]
        half = (len(rows) + 1) // 2
        dev_stream.extend(Example(text, intent) for text in rows[:half])
        test_stream.extend(Example(text, intent) for text in rows[half:])
    # Customers of different intents arrive mixed, not intent by intent.
    rng(seed, "dev-order").shuffle(dev_stream)
    return GapSetup(
        faq=split.corpus(k),
        held_out=tuple(held_out),
        dev_stream=dev_stream,
        test_stream=test_stream,
        kept_dev=sample(split.dev, kept_queries, seed, "kept-dev"),
        kept_test=sample(split.test, kept_queries, seed, "kept-test"),
    )


def faq_document(corpus: Corpus, answer: str) -> dict[str, object]:
    """``corpus`` as an FAQ source document (``FAQ_SOURCES`` YAML), every answer ``answer``."""
    return {
        "entries": [
            {
                "id": entry,
                "category": "bench",
                corpus.language: {"questions": list(questions), "answer": answer},
            }
            for entry, questions in corpus.entries.items()
        ]
    }
