"""Metrics of rankings and the choice of escalation thresholds on DEV rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.evaldata import Example
from bench.methods import Ranking, Run
from faq_index import Decision, SearchSettings, decide

# A threshold grid on the cosine scale shared by the fused score and plain dense cosines.
THRESHOLD_GRID = tuple(round(0.01 * step, 2) for step in range(101))


@dataclass(frozen=True)
class Quality:
    top1: float
    top3: float
    mrr: float  # over the top 10
    build_seconds: float
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, run: Run, examples: Sequence[Example]) -> Quality:
        gold = [example.gold for example in examples]
        p50, p95 = latency_percentiles(run)
        return cls(
            top1=hit_rate(run.rankings, gold, 1),
            top3=hit_rate(run.rankings, gold, 3),
            mrr=mean_reciprocal_rank(run.rankings, gold),
            build_seconds=run.build_seconds,
            p50_ms=p50,
            p95_ms=p95,
        )


def latency_percentiles(run: Run) -> tuple[float, float]:
    """The median and the 95th percentile of the single-query latencies, in ms."""
    p50, p95 = np.percentile(run.latencies_ms, [50, 95])
    return float(p50), float(p95)


def hit_rate(rankings: Sequence[Ranking], gold: Sequence[str | None], k: int) -> float:
    """Share of queries whose gold entry is among the first ``k``."""
    return float(np.mean([g in r.ids[:k] for r, g in zip(rankings, gold, strict=True)]))


def mean_reciprocal_rank(
    rankings: Sequence[Ranking], gold: Sequence[str | None], depth: int = 10
) -> float:
    """MRR over the first ``depth`` results; a gold entry further down counts 0."""
    ranks = [
        1 / (r.ids[:depth].index(g) + 1) if g in r.ids[:depth] else 0.0
        for r, g in zip(rankings, gold, strict=True)
    ]
    return float(np.mean(ranks))


@dataclass(frozen=True)
class Escalation:
    """How one threshold setting handles in-scope and out-of-scope (held-out) queries."""

    answered_correctly: float  # in-scope: not escalated and top-1 right
    recall: float  # held-out queries escalated
    precision: float  # escalated queries that were held-out (nan when none was escalated)


def thresholds(clarify: float, language: str) -> SearchSettings:
    """Settings escalating ``language``'s queries below ``clarify``.

    ``decide`` escalates exactly when the top score is below the clarify threshold; the answer
    threshold only splits the rest into answer and clarify, so it keeps its configured value
    unless that would put it below ``clarify``.
    """
    answer, _, _ = SearchSettings().thresholds(language)
    return SearchSettings(
        **{
            f"clarify_threshold_{language}": clarify,
            f"answer_threshold_{language}": max(clarify, answer),
        }
    )


def escalation(
    rankings: Sequence[Ranking],
    examples: Sequence[Example],
    settings: SearchSettings,
    language: str,
) -> Escalation:
    """Re-decide every query from its precomputed scores with ``settings``."""
    escalated = np.array(
        [decide(r.scores, settings, language) is Decision.ESCALATE for r in rankings]
    )
    held_out = np.array([example.gold is None for example in examples])
    correct = np.array(
        [bool(r.ids) and r.ids[0] == e.gold for r, e in zip(rankings, examples, strict=True)]
    )
    return Escalation(
        answered_correctly=float(np.mean(~escalated[~held_out] & correct[~held_out])),
        recall=float(np.mean(escalated[held_out])),
        precision=float(np.mean(held_out[escalated])) if escalated.any() else float("nan"),
    )


@dataclass(frozen=True)
class ThresholdChoice:
    settings: SearchSettings
    dev: Escalation
    met_target: bool


def choose_threshold(
    rankings: Sequence[Ranking], examples: Sequence[Example], language: str, target: float
) -> ThresholdChoice:
    """The grid threshold with the best held-out recall among those keeping in-scope
    answered-correctly >= ``target``; failing that, the best in-scope rate."""
    outcomes = []
    for clarify in THRESHOLD_GRID:
        settings = thresholds(clarify, language)
        outcomes.append((escalation(rankings, examples, settings, language), settings))
    feasible = [pair for pair in outcomes if pair[0].answered_correctly >= target]
    if feasible:
        dev, settings = max(feasible, key=lambda p: (p[0].recall, p[0].answered_correctly))
    else:
        dev, settings = max(outcomes, key=lambda p: (p[0].answered_correctly, p[0].recall))
    return ThresholdChoice(settings, dev, met_target=bool(feasible))
