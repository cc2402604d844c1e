"""The conversation benchmark's report: tables per group and split, issue 14's targets, the
most frequent kinds of failure, agreement of the channels, and its section of RESULTS.md."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench import dialogue_scoring as scoring
from bench.dialogue_channels import agreement
from bench.dialogue_data import GROUPS, LANGS, SPLITS
from bench.dialogue_scoring import CATEGORIES, Result

FAILURE_KINDS_SHOWN = 15
REPLY_CHARS = 140

# Issue 14's targets: (groups, what is measured, the bound); checked on the rows given.
TARGETS = (
    (("plain_en", "plain_zh"), scoring.RIGHT, ">=", 0.95),
    (("numbers", "courtesy", "yes_no"), scoring.RIGHT, ">=", 0.92),
    (("traditional",), scoring.RIGHT, ">=", 0.90),
    (("off_topic",), scoring.RIGHT, ">=", 0.90),
    (None, scoring.WRONG, "<=", 0.03),
)

ABOUT = (
    "Each item is one customer message (a yes/no item: a short conversation whose last "
    "message is judged), sent over Rasa's REST channel from a new conversation to the whole "
    "assistant (fresh SQLite database); the outcome is read from the tracker. *right*: the "
    'expected entry answered, or the expected greeting, thanks, handoff or "not found" '
    '(off-topic); *right entry among buttons*: a "did you mean" offering the expected entry; '
    "*wrong answer*: another entry answered, or an answer to an off-topic or non-question "
    "message; *needless not found*: an entry was expected, the bot said it found nothing or "
    "handed over; *other*: anything else (a clarification without the entry, a greeting, a "
    "rating recorded, ...). Latency: each message's REST round trip."
)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Row:
    group: str
    split: str
    n: int
    counts: Mapping[str, int]
    p50_ms: float
    p95_ms: float

    def rate(self, category: str) -> float:
        return self.counts.get(category, 0) / self.n if self.n else float("nan")


def summarise(results: Sequence[Result], by_split: bool = True) -> list[Row]:
    """One row per group and split (in :data:`GROUPS` order), then one per split for all."""
    rows = []
    splits = [s for s in SPLITS if any(r.item.split == s for r in results)] if by_split else []
    for split in splits or [None]:
        chosen = [r for r in results if split is None or r.item.split == split]
        for group in [*GROUPS, None]:
            members = [r for r in chosen if group is None or r.item.group == group]
            if not members:
                continue
            latencies = [s * 1000 for r in members for s in r.latencies]
            rows.append(
                Row(
                    group or "all",
                    split or "all",
                    len(members),
                    Counter(r.category for r in members),
                    statistics.median(latencies) if latencies else float("nan"),
                    percentile(latencies, 0.95),
                )
            )
    return rows


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table: rates of each category, and latency per message."""
    lines = [
        "| group | split | n | right | right entry among buttons | wrong answer "
        "| needless not found | other | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"{row.rate(c):.3f}" for c in CATEGORIES]
        name = f"**{row.group}**" if row.group == "all" else row.group
        lines.append(
            f"| {name} | {row.split} | {row.n} | {' | '.join(cells)} "
            f"| {row.p50_ms:.0f} | {row.p95_ms:.0f} |"
        )
    return "\n".join(lines)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REPLY_CHARS else text[: REPLY_CHARS - 1] + "…"


def _observation_line(seen: scoring.Observation) -> str:
    what = seen.signature()
    nlu = f"NLU {seen.intent} {seen.intent_confidence or 0:.2f}"
    if seen.entities:
        nlu += f" entities {', '.join(seen.entities)}"
    top = ", ".join(f"{c} {s:.2f}" for c, s in seen.candidates[:3])
    score = f" score {seen.score:.2f}" if seen.score is not None else ""
    return f"{what}{score} | {nlu}" + (f" | candidates {top}" if top else "")


def describe_result(result: scoring.Result) -> str:
    """A failing item for people: what was sent, expected, decided and replied."""
    item = result.item
    lines = [
        f"[{result.category}] {item.id} ({item.group}, {item.split}, {item.lang}) "
        f"expected {item.expect.describe()}"
        + (f", after {item.after.describe()}" if item.after else "")
        + (" (context not reached)" if result.context_reached is False else "")
    ]
    for turn, seen in zip(item.turns, [*result.earlier, result.seen], strict=False):
        lines.append(f"  > {turn}")
        lines.append(f"    {_observation_line(seen)}")
        lines += [f"    bot: {_short(reply)}" for reply in seen.replies if reply]
    return "\n".join(lines)


def targets_table(rows: Sequence[Row], results: Sequence[scoring.Result]) -> str:
    """Issue 14's targets against these results (pooled over the groups each one names)."""
    lines = ["| target | value | met |", "|---|---|---|"]
    for groups, category, sense, bound in TARGETS:
        chosen = [r for r in results if groups is None or r.item.group in groups]
        if not chosen:
            continue
        value = sum(r.category == category for r in chosen) / len(chosen)
        met = value >= bound if sense == ">=" else value <= bound
        name = "all groups" if groups is None else " + ".join(groups)
        label = category.replace("_", " ")
        lines.append(
            f"| {name}: {label} {sense} {bound:.2f} | {value:.3f} | {'yes' if met else 'no'} |"
        )
    return "\n".join(lines)


def languages_table(results: Sequence[Result]) -> str:
    """Per customer language, how many replies were in it (Traditional script for Taiwan and
    Hong Kong); start payloads left out."""
    lines = ["| customer writes | items with a reply | reply in that language / script |"]
    lines.append("|---|---|---|")
    for lang in LANGS:
        judged = [
            scoring.reply_fits(lang, r.seen.replies)
            for r in results
            if r.item.lang == lang and r.item.group != "start"
        ]
        judged = [j for j in judged if j is not None]
        if judged:
            lines.append(f"| {lang} | {len(judged)} | {sum(judged) / len(judged):.3f} |")
    return "\n".join(lines)


def failure_kinds_text(results: Sequence[scoring.Result]) -> str:
    dev = [r for r in results if r.item.split == "dev"]
    half = "the dev half" if dev else "these items"
    results = dev or results
    lines = [f"Most frequent failure kinds on {half} ({FAILURE_KINDS_SHOWN} at most):"]
    for kind, members in scoring.failure_kinds(results)[:FAILURE_KINDS_SHOWN]:
        examples = "; ".join(f'{r.item.id} "{_short(r.item.text)}"' for r in members[:3])
        lines.append(f"- {len(members)} × {kind}: {examples}")
    return "\n".join(lines)


def channels_text(
    results: Sequence[scoring.Result], channels: Mapping[str, Sequence[scoring.Result]]
) -> str:
    lines = [
        "| channel | items | same category as REST | same outcome as REST |",
        "|---|---|---|---|",
    ]
    differences = []
    for name, other in channels.items():
        agreed = agreement(name, results, other)
        lines.append(f"| {name} | {agreed.n} | {agreed.same_category} | {agreed.same_outcome} |")
        differences += [
            f'- {name}, {r.item.id} "{_short(r.item.text)}": REST {r.seen.signature()}, '
            f"here {o.seen.signature()}"
            for r, o in agreed.differences
        ]
    return "\n".join(lines + (["", *differences] if differences else []))


def report_text(
    results: Sequence[scoring.Result],
    channels: Mapping[str, Sequence[scoring.Result]],
    with_failures: bool,
    context: Sequence[str] = (),
) -> str:
    rows = summarise(results)
    parts = ["# Conversation benchmark: everyday messages, end to end", *context, "", ABOUT]
    parts += ["", markdown_table(rows), "", "Issue 14's targets:", ""]
    parts += [targets_table(rows, results), "", "Replies in the customer's language:", ""]
    parts += [languages_table(results)]
    if channels:
        some = next(iter(channels.values()))
        parts += [
            "",
            f"The same conversations over the other channels ({len(some)} items of these, "
            "round-robin over the groups, start payloads left out), each from a new customer:",
            "",
            channels_text(results, channels),
        ]
    if with_failures:
        parts += ["", failure_kinds_text(results)]
    return "\n".join(parts)
