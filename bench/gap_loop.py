"""Knowledge-gap loop: how the answered share grows with each group agents accept.

Run from the repository's root (``--quick``: a few intents, a smoke test of well under a
minute on an idle machine)::

    .venv/bin/python -m bench.gap_loop [--data ../shared/eval-data] [--seed 13] [--k 20]
        [--groups 20] [--per-intent 80] [--grouping-threshold 0.55]
        [--decision tuned|defaults] [--tune-grouping] [--quick] [--json]

1. An FAQ of banking77's intents with 20% of them held out (:mod:`bench.gap_data`), built as the
   web service builds it: a source file, ``faq_additions`` in an application database (SQLite
   under a temporary directory) and :func:`rebuild_index`.
2. The "week": the held-out intents' DEV questions are asked one by one; what the bot did not
   answer reaches the database as ingestion stores it (:mod:`bench.gap_customers`).
3. The agent: :func:`knowledge_gaps` groups them as the console's gap page does; the biggest
   group is accepted as a new entry (:func:`accept`, the console's "new entry" path, with a
   placeholder answer: the bench does not judge answers) and the index rebuilt; again, group
   after group.
4. After each accepted group, the held-out intents' TEST questions and the kept-in intents'
   TEST questions are asked of the new index. A new entry stands for its group's majority
   intent: answering a question of another intent with it is a wrong answer.

``--decision tuned`` (the default) first chooses the clarify threshold on DEV questions (kept-in
DEV rows and the DEV stream), as the retrieval benchmark's escalation section does, because the
shipped thresholds are tuned for the shop's FAQ; ``defaults`` keeps ``SearchSettings()``.
``--tune-grouping`` adds how the grouping threshold groups the DEV stream's gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.evaldata import Example, load_banking77, sample
from bench.gap_customers import Outcome, ask, record
from bench.gap_data import GapSetup, faq_document, gap_setup
from bench.methods import TOP_N, Ranking
from bench.scoring import choose_threshold
from bot.domain.faq_lookup import FaqLookup
from bot.domain.knowledge import rebuild_index
from bot.domain.knowledge_gaps import (
    SIMILARITY_THRESHOLD,
    accept,
    embed,
    group,
    knowledge_gaps,
    unanswered_questions,
)
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.workers.ingestion import Ingestor
from faq_index import Decision, FaqSearcher, SearchSettings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval-data"
LANGUAGE = "en"
ANSWER = "-"  # no words: an answer takes part in lexical matching (as in bench.methods)
AGENT_CATEGORY = "from agents"
IN_SCOPE_TARGET = 0.85  # as the retrieval benchmark's escalation section
GROUPING_GRID = (0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70)
QUESTION_SPACING = timedelta(seconds=30)
DECISIONS = ("tuned", "defaults")


@dataclass(frozen=True)
class Scale:
    intents: int | None  # banking77 intents used (None: all 77)
    k: int | None  # variants per kept-in entry
    per_intent: int | None  # questions per held-out intent, half DEV, half TEST
    kept_queries: int | None  # kept-in DEV and TEST questions each
    groups: int  # groups accepted


FULL = Scale(intents=None, k=20, per_intent=80, kept_queries=600, groups=20)
QUICK = Scale(intents=10, k=10, per_intent=24, kept_queries=40, groups=3)


@dataclass(frozen=True)
class Shares:
    """What the bot did with a set of questions, as shares of them."""

    questions: int
    answered: float  # answered with an entry
    correct: float  # answered with an entry of the question's intent
    wrong: float  # answered with another intent's entry
    clarified: float  # "did you mean"
    not_found: float


def shares(outcomes: Sequence[Outcome], intent_of: dict[str, str]) -> Shares:
    """``outcomes`` counted; ``intent_of`` names the intent an agent's entry stands for (the
    source entries stand for themselves)."""
    count = max(len(outcomes), 1)
    answered = [o for o in outcomes if o.decision is Decision.ANSWER and o.entry is not None]
    correct = sum(intent_of.get(o.entry or "", o.entry) == o.example.gold for o in answered)
    return Shares(
        questions=len(outcomes),
        answered=len(answered) / count,
        correct=correct / count,
        wrong=(len(answered) - correct) / count,
        clarified=sum(o.decision is Decision.CLARIFY for o in outcomes) / count,
        not_found=sum(o.decision is Decision.ESCALATE for o in outcomes) / count,
    )


@dataclass(frozen=True)
class AcceptedGroup:
    """A group the simulated agent accepted, and what became of its own questions."""

    rank: int
    entry_id: str
    size: int  # questions in the group
    added: int  # questions the entry was given (distinct texts)
    intent: str  # the majority intent of its questions
    purity: float  # the majority intent's share of its questions
    intents: int  # distinct intents among its questions
    own_answered: float  # of its questions, answered with its new entry afterwards
    sources: dict[str, int]  # not_found / not_helpful / handoff


@dataclass(frozen=True)
class CurvePoint:
    accepted: int
    held_out: Shares  # the held-out intents' TEST stream
    kept_in: Shares  # the kept-in intents' TEST rows
    version: str


@dataclass
class LoopResult:
    thresholds: dict[str, float]  # answer, clarify, margin (English)
    grouping_threshold: float
    dev_questions: int
    dev_decisions: dict[str, int]
    gaps: dict[str, int]  # the DEV stream's gaps by kind
    groups_found: int  # groups on the gap page before any was accepted
    groups_of_two_or_more: int
    curve: list[CurvePoint] = field(default_factory=list)
    accepted: list[AcceptedGroup] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class GroupingRow:
    """How one grouping threshold groups the DEV stream's gaps (top ``top`` groups)."""

    threshold: float
    groups: int
    groups_of_two_or_more: int
    top: int
    covered: float  # gaps in the top groups that are of their group's majority intent
    mixed: float  # gaps in the top groups that are of another intent
    intents: int  # distinct majority intents among the top groups


def tuned_settings(searcher: FaqSearcher, setup: GapSetup, base: SearchSettings) -> SearchSettings:
    """``base`` with the clarify threshold chosen on DEV questions: the most DEV-stream questions
    escalated while kept-in DEV questions are answered right at :data:`IN_SCOPE_TARGET`."""
    examples = [*setup.kept_dev, *(Example(e.text, None) for e in setup.dev_stream)]
    rankings = []
    for example in examples:
        matches = searcher.search(example.text, top_k=TOP_N).matches
        rankings.append(Ranking([m.id for m in matches], [m.confidence for m in matches]))
    chosen = choose_threshold(rankings, examples, LANGUAGE, IN_SCOPE_TARGET).settings
    answer, clarify, _ = chosen.thresholds(LANGUAGE)
    return base.model_copy(
        update={f"answer_threshold_{LANGUAGE}": answer, f"clarify_threshold_{LANGUAGE}": clarify}
    )


def _majority(intents: Sequence[str | None]) -> tuple[str, float, int]:
    counts = Counter(intent or "?" for intent in intents)
    intent, count = counts.most_common(1)[0]
    return intent, count / max(len(intents), 1), len(counts)


async def replay_week(
    sessions: async_sessionmaker[AsyncSession], searcher: FaqSearcher, stream: Sequence[Example]
) -> tuple[list[Outcome], tuple[datetime, datetime]]:
    """Ask ``stream``'s questions, one conversation each, and store them as ingestion does.

    Returns:
        The outcomes, and a time range holding every gap they left (tickets are stamped now).
    """
    now = datetime.now(UTC)
    start = now - QUESTION_SPACING * (len(stream) + 1)
    week = [ask(searcher, example) for example in stream]
    async with sessions() as session, session.begin():
        ingestor = Ingestor()
        for number, outcome in enumerate(week):
            when = start + QUESTION_SPACING * number
            await record(session, ingestor, f"bench-{number}", outcome, when)
    return week, (start - timedelta(hours=1), now + timedelta(days=1))


def measure(
    searcher: FaqSearcher, setup: GapSetup, intent_of: dict[str, str], accepted: int
) -> CurvePoint:
    """Ask the TEST questions of the index as it is after ``accepted`` groups."""
    held = [ask(searcher, example) for example in setup.test_stream]
    kept = [ask(searcher, example) for example in setup.kept_test]
    return CurvePoint(accepted, shares(held, intent_of), shares(kept, intent_of), searcher.version)


async def run_loop(
    setup: GapSetup,
    workdir: Path,
    groups: int,
    grouping_threshold: float = SIMILARITY_THRESHOLD,
    decision: str = "tuned",
    base: SearchSettings | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> LoopResult:
    """Replay the DEV stream, accept up to ``groups`` groups, measure after each one.

    Args:
        workdir: an empty directory for the FAQ source, the index and the database.
        decision: ``tuned`` (clarify threshold chosen on DEV questions) or ``defaults``.
        base: the searcher's settings (default ``SearchSettings()``); ``index_dir`` is
            replaced by one in ``workdir``.
        progress: told what is being done.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    started = time.perf_counter()
    settings = (base or SearchSettings()).model_copy(update={"index_dir": workdir / "index"})
    source = workdir / "faq.yml"
    source.write_text(
        yaml.safe_dump(faq_document(setup.faq, ANSWER), allow_unicode=True), encoding="utf-8"
    )
    sources = [source]
    url = f"sqlite:///{workdir / 'app.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    searcher: FaqSearcher | None = None
    lookup: FaqLookup | None = None
    try:
        await rebuild_index(sessions, sources, settings)
        if decision == "tuned":
            first = FaqSearcher(settings.index_dir, settings)
            settings = tuned_settings(first, setup, settings)
            first.close()
        searcher = FaqSearcher(settings.index_dir, settings)
        lookup = FaqLookup(settings)
        progress(f"the week: {len(setup.dev_stream)} DEV questions")

        week, window = await replay_week(sessions, searcher, setup.dev_stream)
        answer, clarify, margin = settings.thresholds(LANGUAGE)
        result = LoopResult(
            thresholds={"answer": answer, "clarify": clarify, "margin": margin},
            grouping_threshold=grouping_threshold,
            dev_questions=len(week),
            dev_decisions=dict(Counter(o.decision.value for o in week)),
            gaps=dict(Counter(o.gap for o in week if o.gap is not None)),
            groups_found=0,
            groups_of_two_or_more=0,
        )
        intent_of: dict[str, str] = {}
        result.curve.append(measure(searcher, setup, intent_of, 0))
        progress(f"0 groups: held-out answered right {result.curve[-1].held_out.correct:.3f}")
        for rank in range(1, groups + 1):
            async with sessions() as session:
                found = await knowledge_gaps(session, lookup, *window, grouping_threshold)
            if rank == 1:
                result.groups_found = len(found)
                result.groups_of_two_or_more = sum(len(g.questions) >= 2 for g in found)
            if not found:
                break
            top = found[0]
            entry_id = f"gap_{rank:02d}"
            async with sessions() as session, session.begin():
                added = await accept(session, sources, top, entry_id, None, ANSWER, AGENT_CATEGORY)
            await rebuild_index(sessions, sources, settings)
            searcher.reload()
            (await lookup.searcher()).reload()
            intent, purity, intents = _majority(
                [setup.dev_intents.get(gap.text) for gap in top.questions]
            )
            intent_of[entry_id] = intent
            own = [ask(searcher, Example(gap.text, entry_id)) for gap in top.questions]
            result.accepted.append(
                AcceptedGroup(
                    rank=rank,
                    entry_id=entry_id,
                    size=len(top.questions),
                    added=len(added),
                    intent=intent,
                    purity=purity,
                    intents=intents,
                    own_answered=sum(o.entry == entry_id for o in own) / len(own),
                    sources=dict(Counter(gap.source for gap in top.questions)),
                )
            )
            result.curve.append(measure(searcher, setup, intent_of, rank))
            progress(
                f"{rank} groups (last: {len(top.questions)} questions, {intent} {purity:.2f}): "
                f"held-out answered right {result.curve[-1].held_out.correct:.3f}"
            )
        result.seconds = time.perf_counter() - started
        return result
    finally:
        if searcher is not None:
            searcher.close()
        if lookup is not None:
            lookup.close()
        await engine.dispose()


async def grouping_table(
    setup: GapSetup,
    workdir: Path,
    thresholds: Sequence[float],
    top: int,
    base: SearchSettings | None = None,
) -> list[GroupingRow]:
    """How each grouping threshold groups the DEV stream's gaps that :func:`run_loop` recorded
    in ``workdir`` (the gaps stay what they were, whatever was accepted since)."""
    settings = (base or SearchSettings()).model_copy(update={"index_dir": workdir / "index"})
    engine = create_engine(f"sqlite:///{workdir / 'app.db'}")
    lookup = FaqLookup(settings)
    try:
        async with session_factory(engine)() as session:
            every = datetime(1970, 1, 2, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2)
            gaps = await unanswered_questions(session, *every)
        vectors = np.asarray(await embed(lookup, [gap.text for gap in gaps]), dtype=np.float64)
    finally:
        lookup.close()
        await engine.dispose()
    rows = []
    total = max(len(gaps), 1)
    for threshold in thresholds:
        found = group(gaps, vectors @ vectors.T, threshold)
        covered = mixed = 0
        majorities = set()
        for chosen in found[:top]:
            intent, purity, _ = _majority([setup.dev_intents.get(g.text) for g in chosen.questions])
            majorities.add(intent)
            right = round(purity * len(chosen.questions))
            covered += right
            mixed += len(chosen.questions) - right
        rows.append(
            GroupingRow(
                threshold=threshold,
                groups=len(found),
                groups_of_two_or_more=sum(len(g.questions) >= 2 for g in found),
                top=top,
                covered=covered / total,
                mixed=mixed / total,
                intents=len(majorities),
            )
        )
    return rows


# --- the report ---------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(setup: GapSetup, result: LoopResult) -> str:
    """The curve and the accepted groups as Markdown tables."""
    by_rank = {group.rank: group for group in result.accepted}
    rows = []
    for point in result.curve:
        chosen = by_rank.get(point.accepted)
        rows.append(
            [
                point.accepted,
                chosen.size if chosen else "",
                chosen.intent if chosen else "",
                _pct(chosen.purity) if chosen else "",
                _pct(chosen.own_answered) if chosen else "",
                _pct(point.held_out.answered),
                _pct(point.held_out.correct),
                _pct(point.held_out.wrong),
                _pct(point.held_out.clarified),
                _pct(point.held_out.not_found),
                _pct(point.kept_in.correct),
                _pct(point.kept_in.wrong),
            ]
        )
    thresholds = ", ".join(f"{name} {value:.2f}" for name, value in result.thresholds.items())
    gaps = ", ".join(f"{kind} {count}" for kind, count in sorted(result.gaps.items()))
    decisions = ", ".join(f"{name} {n}" for name, n in sorted(result.dev_decisions.items()))
    lines = [
        f"FAQ: {len(setup.faq.entries)} kept-in intents, {setup.faq.variants} variants; "
        f"held out ({len(setup.held_out)}): {', '.join(setup.held_out)}.",
        f"Decision thresholds (en): {thresholds}; grouping threshold "
        f"{result.grouping_threshold:.2f}.",
        f"DEV stream: {result.dev_questions} questions ({decisions}); gaps recorded: {gaps}; "
        f"{result.groups_found} groups on the gap page, {result.groups_of_two_or_more} of "
        "two or more questions.",
        f"TEST: {result.curve[0].held_out.questions} held-out questions, "
        f"{result.curve[0].kept_in.questions} kept-in questions. All figures in %.",
        "",
        _table(
            [
                "groups accepted",
                "group size",
                "group's majority intent",
                "purity",
                "own questions answered",
                "held-out answered",
                "held-out answered right",
                "held-out answered wrong",
                "held-out did you mean",
                "held-out not found",
                "kept-in answered right",
                "kept-in answered wrong",
            ],
            rows,
        ),
        "",
        f"Run time: {result.seconds:.0f} s.",
    ]
    return "\n".join(lines)


def grouping_markdown(rows: Sequence[GroupingRow]) -> str:
    return _table(
        [
            "grouping threshold",
            "groups",
            "groups of 2+",
            "top groups",
            "DEV gaps covered by their intent's group",
            "DEV gaps in another intent's group",
            "distinct intents in the top groups",
        ],
        [
            [
                f"{row.threshold:.2f}",
                row.groups,
                row.groups_of_two_or_more,
                row.top,
                _pct(row.covered),
                _pct(row.mixed),
                row.intents,
            ]
            for row in rows
        ],
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gap_loop", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the eval-data folder")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--k", type=int, help="variants per kept-in entry")
    parser.add_argument("--groups", type=int, help="groups to accept, biggest first")
    parser.add_argument("--per-intent", type=int, help="questions per held-out intent")
    parser.add_argument(
        "--grouping-threshold", type=float, default=SIMILARITY_THRESHOLD, help="cosine, 0-1"
    )
    parser.add_argument("--decision", choices=DECISIONS, default="tuned")
    parser.add_argument(
        "--tune-grouping", action="store_true", help="also group the DEV gaps at each threshold"
    )
    parser.add_argument("--quick", action="store_true", help="a few intents: a smoke test")
    parser.add_argument("--json", action="store_true", help="JSON on stdout instead of tables")
    args = parser.parse_args(argv)
    if not (args.data / "banking77" / "train.csv").is_file():
        parser.error(f"no banking77/train.csv in {args.data} (see --data)")
    if not 0 < args.grouping_threshold <= 1:
        parser.error("--grouping-threshold is a cosine in (0, 1]")
    for name in ("k", "groups", "per_intent"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "groups" else 2):
            parser.error(f"--{name.replace('_', '-')} is too small: {value}")
    return args


def scale_of(args: argparse.Namespace) -> Scale:
    scale = QUICK if args.quick else FULL
    overrides = {
        name: getattr(args, name)
        for name in ("k", "groups", "per_intent")
        if getattr(args, name) is not None
    }
    return dataclasses.replace(scale, **overrides)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _run(args: argparse.Namespace, scale: Scale, setup: GapSetup) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gap-loop-") as tmp:
        workdir = Path(tmp)
        result = await run_loop(
            setup, workdir, scale.groups, args.grouping_threshold, args.decision, progress=_progress
        )
        grouping = []
        if args.tune_grouping:
            grouping = await grouping_table(setup, workdir, GROUPING_GRID, scale.groups)
    return {"result": result, "grouping": grouping}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scale = scale_of(args)
    logging.getLogger("faq_index.sources").setLevel(logging.ERROR)  # "no zh text" per entry
    texts = load_banking77(args.data)
    if scale.intents is not None:
        texts = {i: texts[i] for i in sample(sorted(texts), scale.intents, args.seed, "intents")}
    setup = gap_setup(
        texts, args.seed, k=scale.k, per_intent=scale.per_intent, kept_queries=scale.kept_queries
    )
    print(
        f"gap loop: {len(setup.faq.entries)} entries, {len(setup.dev_stream)} DEV and "
        f"{len(setup.test_stream)} TEST held-out questions, up to {scale.groups} groups",
        file=sys.stderr,
        flush=True,
    )
    done = asyncio.run(_run(args, scale, setup))
    result: LoopResult = done["result"]
    if args.json:
        payload = {
            "seed": args.seed,
            "scale": dataclasses.asdict(scale),
            "held_out": list(setup.held_out),
            **dataclasses.asdict(result),
            "grouping": [dataclasses.asdict(row) for row in done["grouping"]],
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"Scale: {dataclasses.asdict(scale)}; seed {args.seed}.")
    print(markdown(setup, result))
    if done["grouping"]:
        print()
        print(grouping_markdown(done["grouping"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
