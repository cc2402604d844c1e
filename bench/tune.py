"""Choose faq_index's decision thresholds (and, optionally, fusion weights) on development queries.

    .venv/bin/python -m bench.tune [--queries FILE ...] [--dialogue bench/dialogue_messages.yml]
        [--index var/faq_index] [--search-weights] [--write-results]

The queries are written by us for the shipped FAQ: ``bench/shop_queries.yml`` (questions as an
FAQ reader asks them) and ``bench/shop_queries_informal.yml`` (as customers type them: typos,
"u", "pls", colloquial Chinese); a row with ``split: holdout`` is never chosen on, only
reported. The single-message ``split: dev`` items of the conversation benchmark that expect an
FAQ answer or "not found" join them (``--dialogue``); its test items are never read. Every
query is searched once and every candidate's three signals kept; thresholds (and, with
``--search-weights``, the ranking weights) are then searched on those numbers
(``bench/tuning.py``).

What customers experience decides, per language on development rows. In scope, the right
entry answered is the best outcome and the right entry among the "did you mean" buttons (the
top 2-3 candidates, as ``actions/faq.py`` offers them) a good one; "not found" for a question
the FAQ answers is a failure, and an answer with the wrong entry is worse. Out of scope, "not
found" is the only right outcome: a "did you mean" of unrelated entries is a nuisance, an answer
is wrong. The thresholds maximise the mean worth of the outcomes (``tuning.UTILITY``) among
those meeting every target of ``tuning.TARGETS`` (a wrong confident answer for at most 3% of
the queries and of the in-scope ones, at least 90% of the out-of-scope ones escalated); when
none meets them all, the one missing them by the least. The result is printed as environment
settings, and with ``--write-results`` as this script's section of bench/RESULTS.md; the
defaults in faq_index/settings.py are the last run's choice. Never tune on rows a benchmark
reports (bench/retrieval.py keeps its own development split for banking77).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench.results_file import write_section
from bench.tuning import (
    DEFAULT_QUERIES,
    TARGETS,
    UTILITY,
    Features,
    Observed,
    Weights,
    best_thresholds,
    best_weights,
    observe,
    outcomes,
    read_dialogue_dev,
    read_queries,
    top1,
)
from faq_index import FaqSearcher, SearchSettings

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Choice:
    language: str
    weights: Weights
    decision: Weights
    top1: float
    thresholds: tuple[float, float, float]  # answer, clarify, margin
    rates: dict[str, float]  # on development rows, with the chosen thresholds
    configured: dict[str, float]  # the same with the configured thresholds


def choose(observed: list[Observed], language: str, search_weights: bool) -> Choice:
    """The thresholds (and ranking weights) for ``language`` on its development rows."""
    settings = SearchSettings()
    dev = [o for o in observed if o.language == language and o.split == "dev"]
    if search_weights:
        weights, accuracy = best_weights(dev)
    else:
        weights = settings.weights(language)
        accuracy = top1([o for o in dev if o.gold], weights)
    decision = settings.decision_weights(language)
    features = Features.of(dev, weights, decision)
    thresholds, rates = best_thresholds(features)
    configured = outcomes(features, *settings.thresholds(language))
    return Choice(language, weights, decision, accuracy, thresholds, rates, configured)


BREAKDOWN_IN = (
    "in scope: answered right",
    "in scope: right entry offered",
    "in scope: escalated (not found)",
    "in scope: answered wrong",
)
BREAKDOWN_OUT = ("out of scope: escalated", "out of scope: did you mean", "out of scope: answered")


def breakdown(observed: list[Observed], choices: dict[str, Choice]) -> list[list[object]]:
    """Outcomes per data file, group, split and language under the chosen thresholds."""
    keys = sorted({(o.source, o.group, o.split, o.language) for o in observed})
    rows = []
    for source, group, split, language in keys:
        subset = [
            o
            for o in observed
            if (o.source, o.group, o.split, o.language) == (source, group, split, language)
        ]
        choice = choices[language]
        rates = outcomes(Features.of(subset, choice.weights, choice.decision), *choice.thresholds)
        n_in = sum(bool(o.gold) for o in subset)
        rows.append(
            [source, group, split, language, n_in]
            + [rates[name] if n_in else float("nan") for name in BREAKDOWN_IN]
            + [len(subset) - n_in]
            + [rates[name] if len(subset) > n_in else float("nan") for name in BREAKDOWN_OUT]
        )
    return rows


def cell(value: object) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3f}"
    return str(value)


def table(headers: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def report(searcher: FaqSearcher, observed: list[Observed], choices: dict[str, Choice]) -> str:
    """This script's section of bench/RESULTS.md."""
    counts = Counter((o.source, o.split) for o in observed)
    data = ", ".join(f"`{source}` {split} {n}" for (source, split), n in sorted(counts.items()))
    langs = list(choices)
    rows: list[list[object]] = [
        ["top-1 (in scope, dev)", *(choices[lang].top1 for lang in langs)],
        [
            "answer / clarify threshold, margin: chosen",
            *("{:.2f} / {:.2f}, {:.2f}".format(*choices[lang].thresholds) for lang in langs),
        ],
        [
            "the same, configured when the run started",
            *(
                "{:.2f} / {:.2f}, {:.2f}".format(*SearchSettings().thresholds(lang))
                for lang in langs
            ),
        ],
    ]
    for name in choices[langs[0]].rates:
        rows.append(
            [
                name,
                *(
                    f"{choices[lang].rates[name]:.3f} ({choices[lang].configured[name]:.3f})"
                    for lang in langs
                ),
            ]
        )
    lines = [
        "## Shop FAQ: decision thresholds on our development queries",
        f"- Command: `{' '.join(['.venv/bin/python', '-m', 'bench.tune', *sys.argv[1:]])}`",
        f"- Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}; index version "
        f"{searcher.version} ({len(searcher.index.entries)} entries of `data/faq`)",
        f"- Queries (rows per file and split): {data}. Holdout rows are never chosen on.",
        "- Objective, per language on dev rows: the highest mean worth of the outcomes ("
        + ", ".join(f"{name} {worth:+g}" for name, worth in UTILITY.items())
        + "; the others 0) among thresholds keeping "
        + "; ".join(f"{n} {'>=' if ge else '<='} {b}" for n, b, ge in TARGETS)
        + ". Ranking and decision weights as configured.",
        "",
        "Dev rows, chosen thresholds (in brackets: the thresholds configured when the run "
        "started):",
        "",
        *table(["", *langs], rows),
        "",
        "Per file, group and split, chosen thresholds:",
        "",
        *table(
            [
                "file",
                "group",
                "split",
                "lang",
                "n in scope",
                "answered right",
                "right offered",
                "not found",
                "answered wrong",
                "n out of scope",
                "escalated",
                "did you mean",
                "answered",
            ],
            breakdown(observed, choices),
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tune", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--queries", type=Path, nargs="+", default=DEFAULT_QUERIES)
    parser.add_argument(
        "--dialogue",
        type=Path,
        default=REPO / "bench" / "dialogue_messages.yml",
        help="the conversation benchmark's messages; only dev items are read ('' for none)",
    )
    parser.add_argument("--index", type=Path, default=REPO / "var" / "faq_index")
    parser.add_argument(
        "--search-weights",
        action="store_true",
        help="also search the fusion weights (default: keep the configured ones)",
    )
    parser.add_argument(
        "--write-results", action="store_true", help="write the section of bench/RESULTS.md"
    )
    args = parser.parse_args()

    sources = {path.stem: read_queries(path) for path in args.queries}
    if str(args.dialogue) and args.dialogue.is_file():
        sources[args.dialogue.stem] = read_dialogue_dev(args.dialogue)
    searcher = FaqSearcher(args.index)
    observed = observe(searcher, sources)
    choices = {lang: choose(observed, lang, args.search_weights) for lang in ("en", "zh")}
    for lang, choice in choices.items():
        print(f"{lang}: top-1 {choice.top1:.3f}")
        for signal, weight in zip(("DENSE", "LEXICAL", "CLASSIFIER"), choice.weights, strict=True):
            print(f"  FAQ_{signal}_WEIGHT_{lang.upper()}={weight:.2f}")
        for name, value in zip(
            ("ANSWER_THRESHOLD", "CLARIFY_THRESHOLD", "CLARIFY_MARGIN"),
            choice.thresholds,
            strict=True,
        ):
            print(f"  FAQ_{name}_{lang.upper()}={value:.2f}")
        for name, value in choice.rates.items():
            print(f"  {name}: {value:.3f} (configured: {choice.configured[name]:.3f})")
    text = report(searcher, observed, choices)
    if args.write_results:
        write_section(REPO / "bench" / "RESULTS.md", "bench/tune.py", text)
    else:
        print()
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
