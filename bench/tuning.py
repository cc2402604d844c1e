"""Choosing decision thresholds on development queries: what ``bench/tune.py`` runs.

Queries are searched once and every candidate's signals kept (:func:`observe`); a decision
setting is then judged on those numbers (:func:`outcomes`), as ``faq_index.decide`` would
decide, by what the customers who asked would get.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from faq_index import FaqSearcher

REPO = Path(__file__).resolve().parent.parent
WEIGHT_GRID = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
ANSWER_GRID = np.round(np.arange(0.20, 0.801, 0.01), 2)
CLARIFY_GRID = np.round(np.arange(0.10, 0.801, 0.01), 2)
MARGIN_GRID = np.round(np.arange(0.0, 0.121, 0.02), 2)
# What each outcome is worth to the customer who asked: an answer with the right entry 1, a
# "did you mean" holding it half of that (the customer reads two or three questions, picks one
# and waits for a second reply; the conversation benchmark counts it as not yet right), "not
# found" nothing (the customer is offered a person), a "did you mean" of unrelated entries a
# nuisance, a wrong answer worse than nothing. The objective is the mean over all development
# queries of a language. At 0.8 for the "did you mean" the thresholds kept many right entries
# ranked first behind buttons (bench/RESULTS.md, issue 14).
UTILITY = {
    "in scope: answered right": 1.0,
    "in scope: right entry offered": 0.5,
    "in scope: answered wrong": -1.0,
    "out of scope: did you mean": -0.5,
    "out of scope: answered": -1.0,
}
# (outcome, bound, at least?) on development rows of one language.
TARGETS = (
    ("in scope: answered wrong", 0.03, False),
    ("wrong answers, all queries", 0.03, False),
    ("out of scope: escalated", 0.90, True),
)
# The buttons of a "did you mean", as actions/faq.py's clarify_options chooses them: the top
# CLARIFY_OPTIONS candidates scoring at least CLARIFY_RATIO of the best, and at least two.
CLARIFY_OPTIONS = 3
CLARIFY_RATIO = 0.75
DEFAULT_QUERIES = [
    REPO / "bench" / "shop_queries.yml",
    REPO / "bench" / "shop_queries_informal.yml",
]

Weights = tuple[float, float, float]


@dataclass
class Observed:
    gold: frozenset[str]  # empty: out of scope
    language: str  # as the searcher detected it: the thresholds it gets
    source: str  # the data file's stem
    group: str
    split: str  # dev: tuned on; holdout: only reported
    ids: list[str]
    signals: np.ndarray  # (candidates, 3): dense, lexical, classifier


def read_queries(path: Path) -> list[tuple[str, frozenset[str], str, str]]:
    """(question, gold ids, group, split) of a shop query file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = [(q["q"], frozenset([q["id"]]), q) for q in data["in_scope"]]
    rows += [(q["q"], frozenset(), q) for q in data["out_of_scope"]]
    return [(q, gold, item.get("group", "-"), item.get("split", "dev")) for q, gold, item in rows]


def read_dialogue_dev(path: Path) -> list[tuple[str, frozenset[str], str, str]]:
    """The dev items of the conversation benchmark that one FAQ search decides: a single
    message expecting an entry, or an off-topic one expecting "not found". Test items are
    skipped before anything else is read from them."""
    rows = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
        if item.get("split") != "dev" or "text" not in item:
            continue
        expect = item["expect"]
        if isinstance(expect, dict) and "answer" in expect:
            answer = expect["answer"]
            gold = frozenset([answer] if isinstance(answer, str) else answer)
            rows.append((item["text"], gold, item["group"], "dev"))
        elif expect == "not_answered" and item["group"] == "off_topic":
            rows.append((item["text"], frozenset(), item["group"], "dev"))
    return rows


def observe(
    searcher: FaqSearcher, sources: dict[str, list[tuple[str, frozenset[str], str, str]]]
) -> list[Observed]:
    observed = []
    for source, rows in sources.items():
        for question, gold, group, split in rows:
            result = searcher.search(question, top_k=len(searcher.index.entries))
            signals = np.array([[m.dense, m.lexical, m.classifier] for m in result.matches])
            ids = [m.id for m in result.matches]
            observed.append(Observed(gold, result.language, source, group, split, ids, signals))
    return observed


@dataclass
class Features:
    """What a decision needs of each query, under fixed ranking and decision weights."""

    in_scope: np.ndarray  # bool
    top: np.ndarray  # confidence of the best-ranked entry
    runner_up: np.ndarray  # confidence of the second
    right: np.ndarray  # the best-ranked entry is a right one
    offered: np.ndarray  # a right entry is among the buttons of a "did you mean"

    @classmethod
    def of(cls, observed: list[Observed], weights: Weights, decision: Weights) -> Features:
        columns = []
        for o in observed:
            scores = o.signals @ np.asarray(weights)
            order = np.argsort(-scores, kind="stable")
            confidences = o.signals[order] @ np.asarray(decision)
            buttons = [
                o.ids[i]
                for i in order[:CLARIFY_OPTIONS]
                if scores[i] >= CLARIFY_RATIO * scores[order[0]]
            ]
            if len(buttons) < 2:
                buttons = [o.ids[i] for i in order[:2]]
            columns.append(
                (
                    bool(o.gold),
                    confidences[0],
                    confidences[1] if len(confidences) > 1 else 0.0,
                    o.ids[order[0]] in o.gold,
                    bool(o.gold.intersection(buttons)),
                )
            )
        arrays = [np.array(column) for column in zip(*columns, strict=True)]
        return cls(*arrays)


def outcomes(features: Features, answer: float, clarify: float, margin: float) -> dict[str, float]:
    """Outcome rates under one threshold setting, as ``decide`` would decide."""
    f = features
    escalate = f.top < clarify
    answered = ~escalate & (f.top >= answer) & (f.top - f.runner_up >= margin)
    clarified = ~escalate & ~answered
    inside, outside = f.in_scope, ~f.in_scope

    def rate(mask: np.ndarray, population: np.ndarray) -> float:
        return float(mask[population].mean()) if population.any() else float("nan")

    return {
        "in scope: answered right": rate(answered & f.right, inside),
        "in scope: right entry offered": rate(clarified & f.offered, inside),
        "in scope: clarified, right entry not offered": rate(clarified & ~f.offered, inside),
        "in scope: escalated (not found)": rate(escalate, inside),
        "in scope: not found, right entry ranked first": rate(escalate & f.right, inside),
        "in scope: answered wrong": rate(answered & ~f.right, inside),
        "out of scope: escalated": rate(escalate, outside),
        "out of scope: did you mean": rate(clarified, outside),
        "out of scope: answered": rate(answered, outside),
        "wrong answers, all queries": float((answered & ~(inside & f.right)).mean()),
    }


def shortfall(rates: dict[str, float]) -> float:
    """How far ``rates`` miss :data:`TARGETS` (0 when all are met)."""
    missed = 0.0
    for name, bound, at_least in TARGETS:
        value = rates[name]
        if value == value:  # not nan
            missed += max(0.0, bound - value) if at_least else max(0.0, value - bound)
    return missed


def objective(rates: dict[str, float], in_scope_share: float) -> float:
    """The mean :data:`UTILITY` per query, with ``in_scope_share`` of the queries in scope."""
    total = 0.0
    for name, worth in UTILITY.items():
        share = in_scope_share if name.startswith("in scope") else 1 - in_scope_share
        if rates[name] == rates[name]:  # not nan
            total += worth * share * rates[name]
    return total


def best_thresholds(features: Features) -> tuple[tuple[float, float, float], dict[str, float]]:
    """The (answer, clarify, margin) setting meeting the targets with the best objective."""
    best: tuple[tuple[float, float], tuple[float, float, float], dict[str, float]] | None = None
    share = float(features.in_scope.mean())
    for answer, clarify, margin in itertools.product(ANSWER_GRID, CLARIFY_GRID, MARGIN_GRID):
        if clarify > answer:
            continue
        rates = outcomes(features, answer, clarify, margin)
        key = (-round(shortfall(rates), 6), round(objective(rates, share), 6))
        if best is None or key > best[0]:
            best = (key, (float(answer), float(clarify), float(margin)), rates)
    assert best is not None
    return best[1], best[2]


def best_weights(observed: list[Observed]) -> tuple[Weights, float]:
    in_scope = [o for o in observed if o.gold]
    best: tuple[Weights, float] = ((1.0, 0.0, 0.0), -1.0)
    for raw in itertools.product(WEIGHT_GRID, repeat=3):
        if sum(raw) == 0:
            continue
        weights = tuple(w / sum(raw) for w in raw)
        accuracy = top1(in_scope, weights)  # type: ignore[arg-type]
        if accuracy > best[1] + 1e-9:
            best = (weights, accuracy)  # type: ignore[assignment]
    return best


def top1(observed: list[Observed], weights: Weights) -> float:
    hits = [o.ids[int(np.argmax(o.signals @ np.asarray(weights)))] in o.gold for o in observed]
    return float(np.mean(hits)) if hits else float("nan")
