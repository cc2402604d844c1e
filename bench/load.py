"""Load on the whole assistant: many conversations at once, over the customers' channels.

Each level runs that many conversations side by side for a bounded time; every conversation
is a new customer who sends FAQ questions (each entry's first questions in English and
Chinese) one after another: at once when the last one was answered (``--pace 0``, a closed
loop: the throughput ceiling), or one every ``--pace`` seconds (a customer who reads, as in
"50 conversations each writing every 5 s"). The channel is REST (Rasa's REST webhook with
the REST channel's token), socket.io (the widget's channel, one socket per customer) or WeChat
(signed, encrypted callbacks as WeChat's servers send them; WeChat's API faked on loopback),
or all three in turn (``mix``). A turn's time is from sending to the first reply (REST and
WeChat: the HTTP round trip; WeChat's passive reply must come within 5 s).

After the levels, every customer's messages are read back from the application database
(once ingestion is done): a message the channel accepted (REST 200 with a reply, a socket's
answer, WeChat's 200) that is not stored is *lost*; one stored more than once is *doubled*;
stored out of order is counted too.

    .venv/bin/python -m bench.load [--levels 1,10,50,100,200] [--seconds 30] [--pace 0]
        [--channel rest|socketio|wechat|mix] [--port-base 18700] [--write-results]

Started on a fresh SQLite database by default (``make run``'s set-up), or ``--database-url``
(PostgreSQL) for the assistant's production stores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bench.bare_assistant import bare_assistant
from bench.dialogue_report import percentile
from bench.ingestion import newest_model
from bench.results_file import write_section
from bench.stack import REPO, running_assistant, wechat_overrides
from bot.store.db import create_engine
from bot.store.models import Conversation, Direction, Interaction
from faq_index.sources import load_sources

RESULTS = REPO / "bench" / "RESULTS.md"
TURN_TIMEOUT = 30.0
INGESTION_WAIT = 120.0
LOAD_AT_START = os.getloadavg()[0]
ASSISTANT, BARE = "assistant", "bare Rasa"


def question_pool(faq_dir: Path = REPO / "data" / "faq", per_language: int = 2) -> list[str]:
    """Questions the FAQ answers: each entry's first ``per_language`` questions in English and
    Chinese, leaving out the entries about reaching a person (they hand over)."""
    pool = []
    for entry in load_sources([faq_dir]):
        if entry.category == "contact":
            continue
        for language in ("en", "zh"):
            localized = entry.texts.get(language)
            if localized is not None:
                pool.extend(localized.questions[:per_language])
    return pool


@dataclass
class Turn:
    text: str
    seconds: float
    accepted: bool  # the channel said it took the message
    answered: bool
    error: str = ""


@dataclass
class CustomerRun:
    channel: str
    sender_id: str
    turns: list[Turn] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where the customers write: a Rasa server (or a load balancer in front of several)."""

    rasa_url: str
    rest_token: str = ""
    database_url: str = ""  # where their messages are stored; empty: not checked


class RestCustomer:
    def __init__(self, target: Target, http: aiohttp.ClientSession) -> None:
        self.url = f"{target.rasa_url}/webhooks/rest/webhook"
        self.headers = {"Authorization": f"Bearer {target.rest_token}"} if target.rest_token else {}
        self.http = http
        self.sender_id = f"load-{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> RestCustomer:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def turn(self, text: str) -> tuple[bool, bool, str]:
        body = {"sender": self.sender_id, "message": text}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            if response.status != 200:
                return False, False, f"HTTP {response.status}"
            replies = await response.json()
            return True, bool(replies), ""


class WidgetCustomer:
    """One widget customer on the socket.io channel (a socket of its own)."""

    def __init__(self, target: Target) -> None:
        from testkit.customers import Customer

        self.customer = Customer(target.rasa_url)

    @property
    def sender_id(self) -> str:
        return self.customer.sender_id

    async def __aenter__(self) -> WidgetCustomer:
        await self.customer.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.customer.__aexit__(*exc)

    async def turn(self, text: str) -> tuple[bool, bool, str]:
        while not self.customer.received.empty():  # the rest of the previous turn's replies
            self.customer.received.get_nowait()
        await self.customer.say(text)
        try:
            await asyncio.wait_for(self.customer.received.get(), TURN_TIMEOUT)
        except TimeoutError:
            return False, False, "no answer"
        return True, True, ""


class WeChatCustomer:
    """One WeChat follower: each message a callback signed and encrypted as WeChat sends it."""

    msg_ids = itertools.count(int(time.time()) * 1000)

    def __init__(self, target: Target, http: aiohttp.ClientSession) -> None:
        from testkit.fake_wechat import ENCODING_AES_KEY, WeChatCallbacks

        self.callbacks = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
        self.url = f"{target.rasa_url}/webhooks/wechat/webhook"
        self.http = http
        self.sender_id = f"o{uuid.uuid4().hex[:27]}"

    async def __aenter__(self) -> WeChatCustomer:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def turn(self, text: str) -> tuple[bool, bool, str]:
        fields = self.callbacks.text(self.sender_id, text, str(next(self.msg_ids)))
        query, body = self.callbacks.request(fields)
        async with self.http.post(self.url, params=query, data=body) as response:
            if response.status != 200:
                return False, False, f"HTTP {response.status}"
            reply = self.callbacks.open_reply(await response.read())
            return True, reply is not None, ""


def new_customer(channel: str, target: Target, http: aiohttp.ClientSession):
    if channel == "rest":
        return RestCustomer(target, http)
    if channel == "socketio":
        return WidgetCustomer(target)
    return WeChatCustomer(target, http)


async def converse(
    channel: str,
    target: Target,
    http: aiohttp.ClientSession,
    texts: Sequence[str],
    until: float,
    pace: float,
) -> CustomerRun:
    async with new_customer(channel, target, http) as customer:
        conversation = CustomerRun(channel, customer.sender_id)
        for text in texts:
            if time.monotonic() >= until:
                break
            started = time.monotonic()
            try:
                accepted, answered, error = await customer.turn(text)
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                accepted, answered, error = False, False, type(exc).__name__
            seconds = time.monotonic() - started
            conversation.turns.append(Turn(text, seconds, accepted, answered, error))
            if pace:
                await asyncio.sleep(max(0.0, pace - seconds))
        return conversation


async def run_level(
    target: Target, channels: Sequence[str], conversations: int, seconds: float, pace: float
) -> tuple[list[CustomerRun], float]:
    pool = question_pool()
    until = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        started = time.monotonic()
        tasks = []
        for n in range(conversations):
            # each conversation starts elsewhere in the pool; no text twice in one conversation
            texts = pool[(n * 7) % len(pool) :] + pool[: (n * 7) % len(pool)]
            channel = channels[n % len(channels)]
            tasks.append(converse(channel, target, http, texts, until, pace))
            if pace:  # customers who read spread their messages over the pace
                await asyncio.sleep(pace / conversations)
        done = await asyncio.gather(*tasks)
        return list(done), time.monotonic() - started


@dataclass
class Ledger:
    lost: int = 0
    doubled: int = 0
    out_of_order: int = 0


async def check_stored(database_url: str, conversations: Sequence[CustomerRun]) -> Ledger:
    """Compare what each customer sent with what the profile holds, once ingestion is done."""
    engine = create_engine(database_url)
    ledger = Ledger()
    try:
        deadline = time.monotonic() + INGESTION_WAIT
        for conversation in conversations:
            sent = [turn.text for turn in conversation.turns if turn.accepted]
            while True:
                async with engine.connect() as connection:
                    stored = list(
                        await connection.scalars(
                            select(Interaction.text)
                            .join(Conversation, Interaction.conversation_id == Conversation.id)
                            .where(
                                Conversation.sender_id == conversation.sender_id,
                                Interaction.direction == Direction.CUSTOMER.value,
                            )
                            .order_by(Interaction.timestamp, Interaction.id)
                        )
                    )
                missing = Counter(sent) - Counter(stored)
                if not missing or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            ledger.lost += sum(missing.values())
            ledger.doubled += sum(n - 1 for n in Counter(stored).values() if n > 1)
            attempted = [turn.text for turn in conversation.turns]
            positions = [attempted.index(text) for text in stored if text in attempted]
            ledger.out_of_order += sum(1 for a, b in itertools.pairwise(positions) if b < a)
    finally:
        await engine.dispose()
    return ledger


@dataclass
class LevelResult:
    system: str
    conversations: int
    seconds: float
    turns: list[Turn]
    ledger: Ledger | None  # None: nothing stored to check (the bare assistant)

    @property
    def accepted(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.accepted]

    @property
    def throughput(self) -> float:
        return len(self.accepted) / self.seconds

    def percentile_ms(self, q: float) -> float:
        return percentile([turn.seconds * 1000 for turn in self.accepted], q)

    def row(self) -> str:
        errors = Counter(t.error for t in self.turns if t.error)
        error_text = ", ".join(f"{kind} {n}" for kind, n in errors.most_common()) or "0"
        unanswered = sum(1 for t in self.accepted if not t.answered)
        ledger = (
            f"{self.ledger.lost} | {self.ledger.doubled} | {self.ledger.out_of_order}"
            if self.ledger
            else "n/a | n/a | n/a"
        )
        return (
            f"| {self.system} | {self.conversations} | {len(self.turns)} "
            f"| {self.throughput:.1f} | {self.percentile_ms(0.5):.0f} "
            f"| {self.percentile_ms(0.95):.0f} | {self.percentile_ms(0.99):.0f} "
            f"| {self.percentile_ms(1.0):.0f} | {unanswered} | {error_text} | {ledger} |"
        )


HEADER = (
    "| system | conversations | turns | accepted turns/s | p50 ms | p95 ms | p99 ms | max ms "
    "| accepted, no reply | errors | lost | doubled | out of order |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def comparison(results: Sequence[LevelResult]) -> list[str]:
    """The issue's ratios against the bare assistant, where both ran."""
    ours = {r.conversations: r for r in results if r.system == ASSISTANT}
    bare = {r.conversations: r for r in results if r.system == BARE}
    if not bare:
        return []
    lines = ["", "| ratio (assistant / bare) | value |", "|---|---|"]
    ceiling = max(r.throughput for r in ours.values()) / max(r.throughput for r in bare.values())
    lines.append(f"| throughput ceiling (best level of each) | {ceiling:.2f} |")
    for level in sorted(set(ours) & set(bare)):
        a, b = ours[level], bare[level]
        lines.append(
            f"| {level} conversations: p50 / p99 | "
            f"{a.percentile_ms(0.5) / b.percentile_ms(0.5):.2f} / "
            f"{a.percentile_ms(0.99) / b.percentile_ms(0.99):.2f} |"
        )
    return lines


def report(args: argparse.Namespace, results: Sequence[LevelResult], commit: str) -> str:
    mode = f"one message every {args.pace:g} s each" if args.pace else "closed loop"
    lines = [
        f"## Load: {', '.join(args.channels)}, {mode} (issue 18)",
        f"- Command: `.venv/bin/python -m bench.load {shlex.join(sys.argv[1:])}`",
        f"- Date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; commit {commit}",
        f"- Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}; load average (1 min) at start {LOAD_AT_START:.2f}, "
        f"at the end {os.getloadavg()[0]:.2f}",
        f"- {args.seconds:g} s per level; the assistant: one process of each kind, database "
        f"{args.database_kind}"
        + (
            f"; *{BARE}*: Rasa with the same NLU pipeline and data whose rules only utter a "
            "response (bench/bare_assistant.py), over REST, in the same run"
            if args.baseline
            else ""
        ),
        "",
        HEADER,
        *(result.row() for result in results),
        *comparison(results),
    ]
    return "\n".join(lines)


def _commit() -> str:
    import subprocess

    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    return "unknown"


async def run_levels(targets: dict[str, Target], args: argparse.Namespace) -> list[LevelResult]:
    """Each level on each system in turn (the assistant, then the bare one), so that both see
    the machine in the same state as far as one run allows."""
    results = []
    for level in args.levels:
        for system, target in targets.items():
            channels = args.channels if system == ASSISTANT else ["rest"]
            print(f"  {system}: {level} conversations ...", file=sys.stderr, flush=True)
            conversations, seconds = await run_level(
                target, channels, level, args.seconds, args.pace
            )
            turns = [turn for conversation in conversations for turn in conversation.turns]
            ledger = None
            if target.database_url:
                ledger = await check_stored(target.database_url, conversations)
            results.append(LevelResult(system, level, seconds, turns, ledger))
            print(f"  {results[-1].row()}", file=sys.stderr, flush=True)
    return sorted(results, key=lambda r: (r.system != ASSISTANT, r.conversations))


def measure(args: argparse.Namespace, work: Path) -> list[LevelResult]:
    """Start the assistant (and the bare one), run the levels, stop them."""
    overrides: dict = {
        "escalate_after_not_found": 1_000_000,  # a missed question must not go quiet
        "tickets_per_conversation_per_hour": 1_000_000,
    }
    if args.database_url:
        overrides["database_url"] = args.database_url
    with contextlib.ExitStack() as on:
        if "wechat" in args.channels:
            from testkit.fake_wechat import FakeWeChat, ThreadedFakeWeChat

            fake = on.enter_context(ThreadedFakeWeChat(FakeWeChat()))
            overrides.update(wechat_overrides(fake.url))
        model = args.model or newest_model()
        stack = on.enter_context(
            running_assistant(model, args.faq_index, work, args.port_base, **overrides)
        )
        settings = stack.settings
        targets = {
            ASSISTANT: Target(
                settings.servers.rasa_url,
                settings.rasa.rest_channel_token.get_secret_value(),
                settings.database.database_url,
            )
        }
        if args.baseline:
            targets[BARE] = Target(on.enter_context(bare_assistant(args.port_base + 90)))
        return asyncio.run(run_levels(targets, args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--levels", default="1,10,50,100,200")
    parser.add_argument("--seconds", type=float, default=30.0, help="per level")
    parser.add_argument(
        "--pace", type=float, default=0.0, help="seconds between a customer's messages"
    )
    parser.add_argument("--channel", choices=["rest", "socketio", "wechat", "mix"], default="rest")
    parser.add_argument("--baseline", action="store_true", help="also the bare Rasa assistant")
    parser.add_argument("--port-base", type=int, default=18700)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--faq-index", type=Path, default=REPO / "var" / "faq_index")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.levels = [int(part) for part in args.levels.split(",") if part.strip()]
    args.channels = ["rest", "socketio", "wechat"] if args.channel == "mix" else [args.channel]
    args.database_kind = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        results = measure(args, Path(work))
    text = report(args, results, _commit())
    print(text)
    if args.write_results:
        write_section(RESULTS, f"bench/load.py --channel {args.channel} --pace {args.pace:g}", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
