"""Choose faq_index's fusion weights and decision thresholds on development queries.

    python bench/tune.py [--queries bench/shop_queries.yml] [--index var/faq_index]

The queries (``bench/shop_queries.yml``, written by us for the shipped FAQ) are searched once;
every candidate's three signals are kept, and thresholds (and, with ``--search-weights``, the
ranking weights) are then searched on those numbers; the decision reads confidences fused with
the configured decision weights. Weights maximise top-1 accuracy on in-scope
queries; the defaults balance this set against banking77's development rows (bench/RESULTS.md),
since a grid over one small set overfits it. Thresholds maximise a utility that reflects what a
customer experiences:

    in scope:      answered right +1, clarified with the right entry offered +0.5,
                   escalated 0, answered wrong -1
    out of scope:  escalated +1, clarified 0, answered -1

The result is printed as environment settings; the defaults in faq_index/settings.py are the
last run's choice. Never tune on the rows a benchmark reports (bench/retrieval.py keeps its own
development split for banking77).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faq_index import Decision, FaqSearcher, SearchSettings, decide  # noqa: E402

WEIGHT_GRID = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]


@dataclass
class Observed:
    gold: str | None  # None: out of scope
    language: str
    ids: list[str]
    signals: np.ndarray  # (candidates, 3): dense, lexical, classifier


def observe(searcher: FaqSearcher, queries: dict) -> list[Observed]:
    observed = []
    items = [(q, q["id"]) for q in queries["in_scope"]] + [
        (q, None) for q in queries["out_of_scope"]
    ]
    for item, gold in items:
        result = searcher.search(item["q"], top_k=len(searcher.index.entries))
        signals = np.array([[m.dense, m.lexical, m.classifier] for m in result.matches])
        observed.append(Observed(gold, item["lang"], [m.id for m in result.matches], signals))
    return observed


Weights = tuple[float, float, float]


def ranked(
    o: Observed, weights: Weights, decision_weights: Weights | None = None
) -> tuple[list[str], list[float]]:
    """Entry ids ranked by ``weights``, with their confidences under ``decision_weights``."""
    order = np.argsort(-(o.signals @ np.asarray(weights)))
    confidences = o.signals @ np.asarray(decision_weights or weights)
    return [o.ids[i] for i in order], [float(confidences[i]) for i in order]


def normalised(weights: tuple[float, ...]) -> tuple[float, float, float]:
    total = sum(weights)
    return tuple(w / total for w in weights)  # type: ignore[return-value]


def best_weights(observed: list[Observed]) -> tuple[tuple[float, float, float], float]:
    in_scope = [o for o in observed if o.gold]
    best = ((1.0, 0.0, 0.0), -1.0)
    for raw in itertools.product(WEIGHT_GRID, repeat=3):
        if sum(raw) == 0:
            continue
        weights = normalised(raw)
        accuracy = float(np.mean([ranked(o, weights)[0][0] == o.gold for o in in_scope]))
        if accuracy > best[1] + 1e-9:
            best = (weights, accuracy)
    return best


def utility(o: Observed, ids: list[str], decision: Decision) -> float:
    if o.gold is None:
        return {Decision.ESCALATE: 1.0, Decision.CLARIFY: 0.0, Decision.ANSWER: -1.0}[decision]
    if decision is Decision.ANSWER:
        return 1.0 if ids[0] == o.gold else -1.0
    if decision is Decision.CLARIFY:
        return 0.5 if o.gold in ids[:3] else 0.0
    return 0.0


def outcome_table(pairs: list[tuple[Observed, list[str], Decision]]) -> dict[str, float]:
    inside = [(ids, d, o) for o, ids, d in pairs if o.gold]
    outside = [d for o, _, d in pairs if o.gold is None]
    return {
        "in-scope answered right": np.mean(
            [d is Decision.ANSWER and i[0] == o.gold for i, d, o in inside]
        ),
        "in-scope clarified (right offered)": np.mean(
            [d is Decision.CLARIFY and o.gold in i[:3] for i, d, o in inside]
        ),
        "in-scope answered wrong": np.mean(
            [d is Decision.ANSWER and i[0] != o.gold for i, d, o in inside]
        ),
        "in-scope escalated": np.mean([d is Decision.ESCALATE for _, d, _ in inside]),
        "out-of-scope escalated": np.mean([d is Decision.ESCALATE for d in outside]),
        "out-of-scope answered": np.mean([d is Decision.ANSWER for d in outside]),
    }


def best_thresholds(
    observed: list[Observed], weights: Weights, decision_weights: Weights, language: str
) -> tuple[dict[str, float], float]:
    """The (answer, clarify, margin) thresholds of one language with the highest utility."""
    rankings = [(o, *ranked(o, weights, decision_weights)) for o in observed]
    best: tuple[dict[str, float], float] = ({}, -1e9)
    for answer in np.arange(0.20, 0.86, 0.02):
        for clarify in np.arange(0.10, answer + 1e-9, 0.02):
            for margin in (0.0, 0.02, 0.04, 0.06, 0.08, 0.1):
                chosen = {
                    f"answer_threshold_{language}": round(float(answer), 2),
                    f"clarify_threshold_{language}": round(float(clarify), 2),
                    f"clarify_margin_{language}": margin,
                }
                settings = SearchSettings(**chosen)
                total = sum(
                    utility(o, ids, decide(scores, settings, language))
                    for o, ids, scores in rankings
                )
                if total > best[1]:
                    best = (chosen, total)
    return best[0], best[1] / len(observed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=REPO / "bench" / "shop_queries.yml")
    parser.add_argument("--index", type=Path, default=REPO / "var" / "faq_index")
    parser.add_argument(
        "--search-weights",
        action="store_true",
        help="also search the fusion weights (default: keep the configured ones)",
    )
    args = parser.parse_args()

    queries = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    observed = observe(FaqSearcher(args.index), queries)
    for language in ("en", "zh"):
        subset = [o for o in observed if o.language == language]
        if args.search_weights:
            weights, accuracy = best_weights(subset)
        else:
            weights = SearchSettings().weights(language)
            accuracy = float(
                np.mean([ranked(o, weights)[0][0] == o.gold for o in subset if o.gold])
            )
        decision_weights = SearchSettings().decision_weights(language)
        chosen, mean_utility = best_thresholds(subset, weights, decision_weights, language)
        print(f"{language}: top-1 {accuracy:.3f}, mean utility {mean_utility:.3f}")
        for signal, weight in zip(("DENSE", "LEXICAL", "CLASSIFIER"), weights, strict=True):
            print(f"  FAQ_{signal}_WEIGHT_{language.upper()}={weight:.2f}")
        for name, value in chosen.items():
            print(f"  FAQ_{name.upper()}={value}")
        settings = SearchSettings(**chosen)
        pairs = []
        for o in subset:
            ids, scores = ranked(o, weights, decision_weights)
            pairs.append((o, ids, decide(scores, settings, language)))
        for name, value in outcome_table(pairs).items():
            print(f"  {name}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
