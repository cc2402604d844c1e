"""The load benchmark's tables: one row per system and level, and the ratios of the assistant
and the cluster to the bare Rasa assistant.

Turn times and the throughput count the turns the bot answered; a quiet turn (a conversation
people have: the bot says nothing) is counted in its own column, as are the handoffs that
ended a conversation (the customer then starts a new one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.dialogue_report import percentile
from bench.load_customers import Turn

ASSISTANT, CLUSTER, BARE = "assistant", "cluster", "bare Rasa"
SYSTEMS = {"assistant": ASSISTANT, "cluster": CLUSTER, "bare": BARE}  # --systems: row name


@dataclass
class Ledger:
    lost: int = 0
    doubled: int = 0
    out_of_order: int = 0


@dataclass
class LevelResult:
    system: str
    conversations: int  # at once
    seconds: float
    turns: list[Turn]
    ledger: Ledger | None  # None: nothing stored to check (the bare assistant)

    @property
    def timed(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.timed]

    @property
    def quiet(self) -> int:
        return sum(1 for turn in self.turns if turn.quiet)

    @property
    def handoffs(self) -> int:
        return sum(1 for turn in self.turns if turn.handoff)

    @property
    def throughput(self) -> float:
        """Answered turns per second."""
        return len(self.timed) / self.seconds

    def percentile_ms(self, q: float) -> float:
        return percentile([turn.seconds * 1000 for turn in self.timed], q)

    def row(self) -> str:
        errors = Counter(t.error for t in self.turns if t.error)
        error_text = ", ".join(f"{kind} {n}" for kind, n in errors.most_common()) or "0"
        ledger = (
            f"{self.ledger.lost} | {self.ledger.doubled} | {self.ledger.out_of_order}"
            if self.ledger
            else "n/a | n/a | n/a"
        )
        return (
            f"| {self.system} | {self.conversations} | {len(self.turns)} "
            f"| {self.throughput:.1f} | {self.percentile_ms(0.5):.0f} "
            f"| {self.percentile_ms(0.95):.0f} | {self.percentile_ms(0.99):.0f} "
            f"| {self.percentile_ms(1.0):.0f} | {self.handoffs} | {self.quiet} | {error_text} "
            f"| {ledger} |"
        )


HEADER = (
    "| system | conversations | turns | answered turns/s | p50 ms | p95 ms | p99 ms | max ms "
    "| handoffs | quiet turns | errors | lost | doubled | out of order |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def ordered(results: Sequence[LevelResult]) -> list[LevelResult]:
    """The assistant's rows, then the cluster's, then the bare Rasa's; by level within each."""
    rank = {ASSISTANT: 0, CLUSTER: 1, BARE: 2}
    return sorted(results, key=lambda r: (rank.get(r.system, 3), r.conversations))


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def comparison(results: Sequence[LevelResult]) -> list[str]:
    """The issue's ratios against the bare assistant: the throughput ceiling (the best level of
    each) and p50 / p99 at each level, for the assistant and the cluster where they ran."""
    by_system: dict[str, dict[int, LevelResult]] = {}
    for result in results:
        by_system.setdefault(result.system, {})[result.conversations] = result
    bare = by_system.get(BARE)
    ours = [s for s in (ASSISTANT, CLUSTER) if s in by_system]
    if not bare or not ours:
        return []
    lines = [
        "",
        "| ratio to the bare Rasa | " + " | ".join(f"{s} / bare" for s in ours) + " |",
        "|---|" + "---|" * len(ours),
    ]
    best_bare = max(r.throughput for r in bare.values())
    ceilings = [_ratio(max(r.throughput for r in by_system[s].values()), best_bare) for s in ours]
    lines.append("| throughput ceiling (best level of each) | " + " | ".join(ceilings) + " |")
    for level in sorted(bare):
        cells = []
        for system in ours:
            mine = by_system[system].get(level)
            if mine is None:
                cells.append("n/a")
                continue
            theirs = bare[level]
            cells.append(
                f"{_ratio(mine.percentile_ms(0.5), theirs.percentile_ms(0.5))} / "
                f"{_ratio(mine.percentile_ms(0.99), theirs.percentile_ms(0.99))}"
            )
        lines.append(f"| {level} conversations: p50 / p99 | " + " | ".join(cells) + " |")
    return lines


def table(results: Sequence[LevelResult]) -> list[str]:
    return [HEADER, *(r.row() for r in ordered(results)), *comparison(results)]
