"""Retrieval benchmark: faq_index against plain baselines on public customer-service data.

Run from the repository root (the full run takes a while; ``--quick`` is a check of about a
minute on an idle machine)::

    .venv/bin/python -m bench.retrieval [--data ../shared/eval-data] [--out bench/RESULTS.md]
        [--seed 13] [--ks 1,5,20,all] [--draws 5] [--skip-rasa] [--rasa-all]
        [--max-queries N] [--quick]

1. banking77 (EN): one entry per intent with k variants; top-1/top-3/MRR on TEST rows for the
   fused searcher, plain dense kNN, TF-IDF and Rasa's ResponseSelector.
2. Escalation: 20% of the intents are left out of the index; thresholds chosen on DEV rows,
   reported on TEST rows.
3. AFQMC (ZH): paraphrase pairs, second sentences indexed, first sentences as queries.
4. Latency and build throughput of FaqSearcher on a 1,000-entry index.

The tables go to stdout and to a Markdown report (``--out``); progress goes to stderr.
``--quick`` runs small subsets without Rasa and writes a report only when ``--out`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from bench.evaldata import (
    Corpus,
    Example,
    IntentSplit,
    afqmc_benchmark,
    latency_corpus,
    load_afqmc_pairs,
    load_banking77,
    rng,
    sample,
    split_intents,
)
from bench.methods import (
    DenseKnn,
    FaqSearch,
    Method,
    MethodError,
    RasaSelector,
    Tfidf,
)
from bench.results_file import write_section
from bench.scoring import (
    Escalation,
    Quality,
    choose_threshold,
    escalation,
    latency_percentiles,
)
from faq_index import Embedder, SearchSettings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval-data"
DEFAULT_OUT = REPO / "bench" / "RESULTS.md"
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
RASA_MODULE = "bench.rasa_selector"
RASA_KS = (1, 5, 20)
HELD_OUT_SHARE = 0.2
IN_SCOPE_TARGET = 0.85
LATENCY_WARMUP = 20
SYNTHETIC_ENTRY_SIZE = 5
STARTED = time.perf_counter()
LOAD_AT_START = os.getloadavg()[0]


@dataclasses.dataclass(frozen=True)
class Scale:
    """How much of the data a run uses."""

    intents: int | None  # banking77 intents (None: all 77)
    max_queries: int | None  # banking77 TEST/DEV rows per evaluation (None: all)
    afqmc_pairs: int
    latency_entries: int
    latency_queries: int


FULL = Scale(
    intents=None, max_queries=None, afqmc_pairs=2000, latency_entries=1000, latency_queries=1000
)
QUICK = Scale(intents=15, max_queries=60, afqmc_pairs=200, latency_entries=200, latency_queries=100)


class Report:
    """Markdown blocks, echoed to stdout as they are added."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def add(self, *lines: str) -> None:
        block = "\n".join(lines)
        self.blocks.append(block)
        print(block + "\n", flush=True)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
        self.add(*lines)

    def text(self) -> str:
        return "\n\n".join(self.blocks) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3f}"  # nan: undefined
    return str(value)


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _ms(value: float) -> str:
    return f"{value:.1f}"


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def k_label(k: int | None) -> str:
    return "all" if k is None else str(k)


def quality_row(quality: Quality) -> list[object]:
    return [
        quality.top1,
        quality.top3,
        quality.mrr,
        _seconds(quality.build_seconds),
        _ms(quality.p50_ms),
        _ms(quality.p95_ms),
    ]


QUALITY_HEADERS = ["top-1", "top-3", "MRR@10", "build s", "p50 ms", "p95 ms"]


def evaluate(
    method: Method, corpus: Corpus, examples: Sequence[Example], notes: list[str], label: str
) -> Quality | None:
    """Run one method and score it; a failure becomes a note instead of ending the run."""
    progress(f"{label}: {method.name}, {len(corpus.entries)} entries, {len(examples)} queries")
    try:
        return Quality.of(method.run(corpus, [e.text for e in examples]), examples)
    except MethodError as exc:
        notes.append(f"- {method.name} failed at {label}: {exc}")
        progress(f"{label}: {method.name} failed: {exc}")
        return None


def banking_section(
    split: IntentSplit,
    ks: Sequence[int | None],
    methods_for: Callable[[int | None, bool], list[Method]],
    scale: Scale,
    seed: int,
    draws: int,
    report: Report,
) -> None:
    test = sample(split.test, scale.max_queries, seed, "banking-test")
    rows, notes = [], []
    top1: dict[str, dict[str, float]] = {}
    for k in ks:
        corpus = split.corpus(k)
        for method in methods_for(k, True):
            quality = evaluate(method, corpus, test, notes, f"banking77 k={k_label(k)}")
            if quality is not None:
                rows.append([k_label(k), method.name, corpus.variants, *quality_row(quality)])
                top1.setdefault(method.name, {})[k_label(k)] = quality.top1
    report.add(
        "## banking77: one entry per intent, k variants each",
        f"{len(split.pool)} intents; {len(test)} TEST queries (rows never indexed nor tuned on). "
        "Build = index build or training time without model loading; latency = one query per "
        "call, after a warm-up.",
    )
    report.table(["k", "method", "variants", *QUALITY_HEADERS], rows)
    labels = [k_label(k) for k in ks]
    pivot = [
        [name, *(by_k.get(label, float("nan")) for label in labels)] for name, by_k in top1.items()
    ]
    report.add("Top-1 at a glance:")
    report.table(["method", *(f"k={label}" for label in labels)], pivot)
    drawn = [k for k in ks if k is not None]
    if draws > 1 and drawn:
        draws_section(split, drawn, methods_for, test, top1, draws, notes, report)
    if notes:
        report.add(*notes)


def draws_section(
    split: IntentSplit,
    ks: Sequence[int],
    methods_for: Callable[[int | None, bool], list[Method]],
    test: Sequence[Example],
    first_draw: dict[str, dict[str, float]],
    draws: int,
    notes: list[str],
    report: Report,
) -> None:
    """Top-1 over ``draws`` independent choices of the k variants (the first is the table's)."""
    rows = []
    for k in ks:
        by_method = {name: [by_k[str(k)]] for name, by_k in first_draw.items() if str(k) in by_k}
        for draw in range(1, draws):
            corpus = split.corpus(k, draw=draw)
            for method in methods_for(k, False):
                label = f"banking77 k={k} draw {draw + 1}"
                quality = evaluate(method, corpus, test, notes, label)
                if quality is not None and method.name in by_method:
                    by_method[method.name].append(quality.top1)
        for name, values in by_method.items():
            if len(values) == draws:
                rows.append([k, name, float(np.mean(values)), min(values), max(values)])
    report.add(
        f"Top-1 over {draws} draws of the k variants per intent (the first draw is the one "
        "above; the others are independent random choices from the same pools, same TEST "
        "rows). With few variants, which ones were drawn moves top-1 by a point or more, so "
        "the mean is the steadier figure. Rasa's selector is trained on the first draw only.",
    )
    report.table(["k", "method", f"top-1 mean of {draws}", "min", "max"], rows)


def escalation_section(
    split: IntentSplit, embedder: Embedder, scale: Scale, seed: int, report: Report
) -> None:
    intents = sorted(split.pool)
    held_out = set(rng(seed, "held-out").sample(intents, round(len(intents) * HELD_OUT_SHARE)))
    in_scope = [intent for intent in intents if intent not in held_out]

    def relabel(examples: Sequence[Example]) -> list[Example]:
        return [Example(e.text, None if e.gold in held_out else e.gold) for e in examples]

    dev = sample(relabel(split.dev), scale.max_queries, seed, "escalation-dev")
    test = sample(relabel(split.test), scale.max_queries, seed, "escalation-test")
    corpus = split.corpus(None, in_scope)
    language = corpus.language
    rows, notes = [], []
    for method in (FaqSearch("fused", embedder), DenseKnn(embedder)):
        progress(f"escalation: {method.name}, {len(dev)} DEV + {len(test)} TEST queries")
        run = method.run(corpus, [e.text for e in dev + test])
        dev_rankings, test_rankings = run.rankings[: len(dev)], run.rankings[len(dev) :]
        choice = choose_threshold(dev_rankings, dev, language, IN_SCOPE_TARGET)
        if not choice.met_target:
            notes.append(
                f"- {method.name}: no threshold kept DEV in-scope answered-correctly at "
                f"{IN_SCOPE_TARGET}; the one with the best in-scope rate was taken."
            )
        outcome = escalation(test_rankings, test, choice.settings, language)
        hindsight = choose_threshold(test_rankings, test, language, IN_SCOPE_TARGET)
        if hindsight.met_target:
            notes.append(
                f"- {method.name}, for scale only (chosen on TEST, so not a result): TEST's own "
                f"best grid threshold, {hindsight.settings.thresholds(language)[1]:.2f}, would "
                f"escalate {hindsight.dev.recall:.3f} of the held-out queries at "
                f"{hindsight.dev.answered_correctly:.3f} in-scope answered correctly; the gap "
                "to the row above is what choosing the threshold on DEV rows costs."
            )
        rows.append(_escalation_row(method.name, choice.settings, language, choice.dev, outcome))
        if isinstance(method, FaqSearch):
            defaults = SearchSettings()
            rows.append(
                _escalation_row(
                    "fused (library defaults)",
                    defaults,
                    language,
                    escalation(dev_rankings, dev, defaults, language),
                    escalation(test_rankings, test, defaults, language),
                )
            )
    n_dev_out = sum(e.gold is None for e in dev)
    n_test_out = sum(e.gold is None for e in test)
    report.add(
        "## Escalation on banking77: 20% of the intents held out of the index",
        f"Held out ({len(held_out)}): {', '.join(sorted(held_out))}.",
        f"Index: all pool variants of the other {len(in_scope)} intents ({corpus.variants}). "
        f"DEV: {len(dev) - n_dev_out} in-scope + {n_dev_out} held-out queries; "
        f"TEST: {len(test) - n_test_out} in-scope + {n_test_out} held-out queries.",
        f"A query is escalated when the confidence of its best-ranked entry is below `clarify_threshold_{language}` "
        f"(`decide`); `answer_threshold_{language}` only splits the rest into answer and "
        "clarify, so the grid (0.00-1.00, step 0.01) is over the clarify threshold: the most "
        "held-out recall on DEV "
        f"with in-scope answered-correctly (not escalated, top-1 right) >= {IN_SCOPE_TARGET}. "
        "Scores come from one search per query; every grid point re-decides from them. "
        "dense-knn uses the same rule on its plain top cosine.",
    )
    report.table(
        [
            "method",
            f"clarify_threshold_{language}",
            f"answer_threshold_{language}",
            "DEV in-scope ok",
            "DEV recall",
            "TEST in-scope answered correctly",
            "TEST held-out escalated (recall)",
            "TEST escalation precision",
        ],
        rows,
    )
    if notes:
        report.add(*notes)


def _escalation_row(
    name: str, settings: SearchSettings, language: str, dev: Escalation, test: Escalation
) -> list[object]:
    answer, clarify, _ = settings.thresholds(language)
    return [
        name,
        f"{clarify:.2f}",
        f"{answer:.2f}",
        dev.answered_correctly,
        dev.recall,
        test.answered_correctly,
        test.recall,
        test.precision,
    ]


def weight_fields(language: str) -> list[str]:
    """The SearchSettings fields weighting FaqSearcher's ranking channels for ``language``
    (the ``decision_*`` weights only change decisions, not the ranking measured here)."""
    return [
        name
        for name in SearchSettings.model_fields
        if name.endswith(f"_weight_{language}") and not name.startswith("decision_")
    ]


def single_channel_settings(language: str) -> dict[str, dict[str, float]]:
    """Per scoring channel (dense, lexical, classifier today), the overrides keeping only it:
    its ``<channel>_weight_<language>`` 1, every other one 0."""
    fields = weight_fields(language)
    return {
        field.removesuffix(f"_weight_{language}"): {
            other: float(other == field) for other in fields
        }
        for field in fields
    }


def afqmc_section(data: Path, embedder: Embedder, scale: Scale, seed: int, report: Report) -> None:
    pairs = sample(load_afqmc_pairs(data), scale.afqmc_pairs, seed, "afqmc")
    corpus, examples = afqmc_benchmark(pairs)
    channels = single_channel_settings("zh")
    configured = SearchSettings()
    weights = ", ".join(f"{field}={getattr(configured, field)}" for field in weight_fields("zh"))
    methods: list[Method] = [
        *(FaqSearch(name, embedder, **overrides) for name, overrides in channels.items()),
        FaqSearch("fused", embedder),
        Tfidf("char-tfidf", analyzer="char", ngram_range=(1, 2)),
    ]
    rows, notes = [], []
    for method in methods:
        quality = evaluate(method, corpus, examples, notes, "afqmc")
        if quality is not None:
            rows.append([method.name, *quality_row(quality)])
    report.add(
        "## AFQMC (Chinese): paraphrase pairs",
        f"{len(pairs)} positive pairs sampled; their {len(corpus.entries)} distinct second "
        "sentences are the entries (one variant each), the first sentences the queries. "
        f"{', '.join(channels)} = FaqSearcher with only that channel (its `*_weight_zh` 1, "
        f"the others 0); fused = the configured weights ({weights}); char-tfidf = "
        "scikit-learn char 1-2 grams, an outside baseline.",
    )
    report.table(["method", *QUALITY_HEADERS], rows)
    report.add(
        *notes,
        "- Negative pairs (label 0: near-miss questions on the same product) are not scored "
        "here; they would measure false matches of Chinese queries.",
    )


def latency_section(
    split: IntentSplit, embedder: Embedder, scale: Scale, seed: int, report: Report
) -> None:
    corpus = latency_corpus(split, scale.latency_entries, SYNTHETIC_ENTRY_SIZE, seed)
    queries = [e.text for e in sample(split.test, scale.latency_queries, seed, "latency-queries")]
    progress(f"latency: {len(corpus.entries)} entries, {len(queries)} queries")
    runtimes = {
        "ONNX Runtime": FaqSearch("fused", embedder),
        "PyTorch (FAQ_ONNX_CACHE_DIR='')": FaqSearch("fused", embedder, onnx_cache_dir=""),
    }
    rows = []
    for runtime, method in runtimes.items():
        run = method.run(corpus, queries, warmup=LATENCY_WARMUP)
        p50, p95 = latency_percentiles(run)
        rows.append(
            [
                runtime,
                len(corpus.entries),
                corpus.variants,
                _seconds(run.build_seconds),
                f"{corpus.variants / run.build_seconds:.0f}",
                len(queries),
                _ms(p50),
                _ms(p95),
            ]
        )
    report.add(
        "## Latency and build throughput of FaqSearcher",
        f"Synthetic entries of {SYNTHETIC_ENTRY_SIZE} banking77 pool texts of one intent each; "
        f"queries are TEST rows, one `search` call each after {LATENCY_WARMUP} warm-up queries. "
        "Build = the wall time of `build_index` (all of it: embedding, indexes, writing) "
        "without model loading; both the index and the queries are embedded by the runtime "
        "named, as `make index` and the searcher do (both rows in one run, one after the "
        "other).",
    )
    report.table(
        [
            "runtime",
            "entries",
            "variants",
            "build s",
            "variants/s",
            "queries",
            "p50 ms",
            "p95 ms",
        ],
        rows,
    )


def header(args: argparse.Namespace, scale: Scale, load_seconds: float, report: Report) -> None:
    interpreter = os.path.relpath(sys.executable)
    command = shlex.join(
        [
            interpreter if not interpreter.startswith("..") else sys.executable,
            "-m",
            "bench.retrieval",
            *sys.argv[1:],
        ]
    )
    overrides = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("FAQ_"))
    settings = SearchSettings().model_dump(exclude={"index_dir"})
    report.add(
        "# FAQ retrieval benchmark" + (" (quick mode)" if args.quick else ""),
        f"- Command: `{command}`",
        f"- Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {_cpu_model()}, "
        f"{platform.platform()}, Python {platform.python_version()}, "
        f"torch threads {torch.get_num_threads()}",
        f"- Load average (1 min) at start: {LOAD_AT_START:.2f} (the machine is shared: a high "
        "load inflates build times and latencies)",
        f"- Seed: {args.seed}; data: {args.data}; scale: {dataclasses.asdict(scale)}",
        f"- Embedding model load (once, not in any build time): {load_seconds:.1f} s",
        "- faq_index settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()),
        f"- FAQ_* environment: {', '.join(overrides) or 'none'}; "
        f"./.env (also read by SearchSettings): {'present' if Path('.env').is_file() else 'none'}",
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def parse_ks(text: str) -> list[int | None]:
    """``1,5,20,all`` -> ``[1, 5, 20, None]`` (``None``: the whole pool)."""
    ks: list[int | None] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "all":
            ks.append(None)
        elif part.isdigit() and int(part) > 0:
            ks.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"k must be a positive integer or 'all', got {part!r}")
    return ks


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.retrieval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the eval-data folder")
    parser.add_argument("--out", type=Path, help=f"Markdown report (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--ks", type=parse_ks, default=parse_ks("1,5,20,all"))
    parser.add_argument(
        "--draws", type=int, default=5, help="draws of the k variants per intent (k != all)"
    )
    parser.add_argument("--skip-rasa", action="store_true", help="leave out Rasa's selector")
    parser.add_argument("--rasa-all", action="store_true", help="also train Rasa at k=all (slow)")
    parser.add_argument(
        "--max-queries", type=int, help="banking77 queries per evaluation and AFQMC pairs"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small subsets, no Rasa, about a minute"
    )
    args = parser.parse_args(argv)
    for needed in ("banking77/train.csv", "afqmc_zh/train.txt"):
        if not (args.data / needed).is_file():
            parser.error(f"no {needed} in {args.data} (see --data)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.max_queries:
        scale = dataclasses.replace(
            scale, max_queries=args.max_queries, afqmc_pairs=args.max_queries
        )
    use_rasa = not (args.skip_rasa or args.quick)

    progress("loading the embedding model")
    started = time.perf_counter()
    embedder = Embedder.load()
    load_seconds = time.perf_counter() - started

    texts = load_banking77(args.data)
    if scale.intents is not None:
        texts = {i: texts[i] for i in sample(sorted(texts), scale.intents, args.seed, "intents")}
    split = split_intents(texts, args.seed)

    def methods_for(k: int | None, with_rasa: bool) -> list[Method]:
        methods: list[Method] = [
            FaqSearch("fused", embedder),
            DenseKnn(embedder),
            Tfidf("tfidf", ngram_range=(1, 2), sublinear_tf=True),
        ]
        if with_rasa and use_rasa and (k in RASA_KS or args.rasa_all):
            methods.append(RasaSelector(RASA_PYTHON, RASA_MODULE, REPO, args.seed))
        return methods

    report = Report()
    header(args, scale, load_seconds, report)
    banking_section(split, args.ks, methods_for, scale, args.seed, args.draws, report)
    escalation_section(split, embedder, scale, args.seed, report)
    afqmc_section(args.data, embedder, scale, args.seed, report)
    latency_section(split, embedder, scale, args.seed, report)
    report.add(
        f"Total run time: {time.perf_counter() - STARTED:.0f} s; "
        f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}."
    )

    out = args.out or (None if args.quick else DEFAULT_OUT)
    if out is None:
        progress("quick mode: no report written (pass --out to write one)")
    else:
        write_section(out, "bench/retrieval.py", report.text())
        progress(f"report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
