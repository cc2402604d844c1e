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

A conversation handed over to people goes quiet (the bot says nothing while they have it): a
customer whose reply is the handoff reply, or whose turn was quiet, goes on in a new
conversation (:mod:`bench.load_customers`). Quiet turns are counted in a column of their own
and left out of the turn times and the throughput. Questions NLU reads as a request for a
person or a complaint (the rules hand those over) are left out of the pool by a dry run of
NLU before the levels, and the report lists them.

The systems (``--systems``, in one run, each level on each in turn):

- ``assistant``: one process of each kind (``make run``'s set-up) on a fresh SQLite database,
  or ``--database-url`` (PostgreSQL); Rasa on ``--port-base`` + 5;
- ``cluster``: ``python -m bot cluster`` (2 Rasa servers, 2 action servers, 2 web services
  behind nginx) on a fresh PostgreSQL database, Redis database 13 and a RabbitMQ queue of its
  own, all removed afterwards (:mod:`bench.cluster_stack`); nginx on ``--port-base`` + 100;
- ``bare``: the natural baseline, Rasa with the same NLU pipeline and data whose rules only
  utter a response (:mod:`bench.bare_assistant`), over REST; on ``--port-base`` + 90.
  ``--baseline`` is short for adding it.

After the levels, every customer's messages are read back from the system's application
database (once ingestion is done): a message the channel accepted (REST 200, a socket's answer,
WeChat's 200) that is not stored is *lost*; one stored more than once is *doubled*; stored out
of order is counted too.

    .venv/bin/python -m bench.load [--levels 1,10,50,100,200] [--seconds 30] [--pace 0]
        [--channel rest|socketio|wechat|mix] [--systems assistant,cluster,bare]
        [--port-base 18700] [--write-results]
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
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import select

from bench.bare_assistant import bare_assistant
from bench.cluster_stack import running_cluster
from bench.ingestion import newest_model
from bench.load_customers import (
    TURN_TIMEOUT,
    CustomerRun,
    HandoffReplies,
    Target,
    converse,
    customer_factory,
)
from bench.load_report import (
    ASSISTANT,
    BARE,
    CLUSTER,
    SYSTEMS,
    Ledger,
    LevelResult,
    ordered,
    table,
)
from bench.results_file import write_section
from bench.stack import REPO, running_assistant, wechat_overrides
from bot.runtime.chat import send
from bot.settings import Settings
from bot.store.db import create_engine
from bot.store.models import Conversation, Direction, Interaction
from faq_index.sources import load_sources

RESULTS = REPO / "bench" / "RESULTS.md"
INGESTION_WAIT = 120.0
LOAD_AT_START = os.getloadavg()[0]
BARE_PORT, CLUSTER_PORT = 90, 100  # above --port-base


# --- what the customers ask -----------------------------------------------------------------


def question_pool(faq_dir: Path = REPO / "data" / "faq", per_language: int = 2) -> list[str]:
    """Questions the FAQ answers: each entry's first ``per_language`` questions in English and
    Chinese, leaving out the entries about reaching a person (they hand over)."""
    pool: list[str] = []
    for entry in load_sources([faq_dir]):
        if entry.category == "contact":
            continue
        for language in ("en", "zh"):
            localized = entry.texts.get(language)
            if localized is not None:
                pool.extend(localized.questions[:per_language])
    return pool


def escalating_intents(rules_file: Path = REPO / "data" / "rules.yml") -> set[str]:
    """The intents whose rule hands the conversation over whatever came before
    (``action_escalate`` without a condition)."""
    rules = yaml.safe_load(rules_file.read_text(encoding="utf-8"))["rules"]
    found: set[str] = set()
    for rule in rules:
        steps = rule.get("steps", [])
        if rule.get("condition") or not any(s.get("action") == "action_escalate" for s in steps):
            continue
        found.update(s["intent"] for s in steps if "intent" in s)
    return found


@dataclass
class QuestionPool:
    texts: list[str]
    left_out: dict[str, str] = field(default_factory=dict)  # text: the intent NLU read
    intents: set[str] = field(default_factory=set)


async def without_handoffs(rasa_url: str, api_token: str, texts: Sequence[str]) -> QuestionPool:
    """``texts`` but those NLU reads as an intent that hands over: a dry run of the model's NLU
    (Rasa's ``/model/parse``) on every text, before the levels."""
    intents = escalating_intents()
    params = {"token": api_token} if api_token else {}
    limit = asyncio.Semaphore(4)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as http:

        async def intent_of(text: str) -> str:
            async with (
                limit,
                http.post(
                    f"{rasa_url}/model/parse", params=params, json={"text": text}
                ) as response,
            ):
                response.raise_for_status()
                return ((await response.json()).get("intent") or {}).get("name") or ""

        read = await asyncio.gather(*(intent_of(text) for text in texts))
    left_out = {text: intent for text, intent in zip(texts, read, strict=True) if intent in intents}
    return QuestionPool([t for t in texts if t not in left_out], left_out, intents)


# --- a level --------------------------------------------------------------------------------


async def run_level(
    target: Target,
    channels: Sequence[str],
    conversations: int,
    seconds: float,
    pace: float,
    pool: Sequence[str],
    hands_over: Callable[[Sequence[str]], bool],
) -> tuple[list[CustomerRun], float]:
    """``conversations`` customers at once for ``seconds``; every conversation each had (a
    customer handed over goes on in a new one) and the seconds it took."""
    until = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        started = time.monotonic()
        tasks = []
        for n in range(conversations):
            # each customer starts elsewhere in the pool; no text twice in one conversation
            texts = [*pool[(n * 7) % len(pool) :], *pool[: (n * 7) % len(pool)]]
            channel = channels[n % len(channels)]
            opener = customer_factory(channel, target, http)
            tasks.append(converse(opener, channel, texts, until, pace, hands_over))
            if pace:  # customers who read spread their messages over the pace
                await asyncio.sleep(pace / conversations)
        done = await asyncio.gather(*tasks)
        return [run for runs in done for run in runs], time.monotonic() - started


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
                    stored: list[str] = list(
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


# --- the systems ----------------------------------------------------------------------------


@dataclass(frozen=True)
class System:
    name: str  # its rows' name
    target: Target
    channels: Sequence[str]
    rasa_servers: Sequence[str]  # each Rasa server directly, for the warm-up
    api_token: str = ""  # Rasa's HTTP API (the dry run of NLU)


def ours(
    name: str, settings: Settings, channels: Sequence[str], rasa_servers: Sequence[str] = ()
) -> System:
    """The assistant or the cluster, as its settings say where it listens (``rasa_servers``:
    each Rasa server's own address, default the one of the settings)."""
    return System(
        name,
        Target(
            settings.servers.rasa_url,
            settings.rasa.rest_channel_token.get_secret_value(),
            settings.database.database_url,
        ),
        channels,
        list(rasa_servers) or [settings.servers.rasa_url],
        settings.rasa.rasa_api_token.get_secret_value(),
    )


def warm_up(systems: Sequence[System]) -> None:
    """One turn on every Rasa server: a fresh one loads its tokenizer's dictionary and builds
    its model's graphs at its first message (seconds), which the first level would count."""
    turns = [
        (url, system.target.rest_token, f"warm-up-{n}-{i}")
        for n, system in enumerate(systems)
        for i, url in enumerate(system.rasa_servers)
    ]
    with ThreadPoolExecutor(len(turns)) as threads:
        list(
            threads.map(
                lambda turn: send(
                    turn[0], turn[2], "How do I create an account?", 120, None, turn[1]
                ),
                turns,
            )
        )


async def run_levels(
    systems: Sequence[System], args: argparse.Namespace, pool: QuestionPool
) -> list[LevelResult]:
    """Each level on each system in turn, so that all see the machine in the same state as far
    as one run allows."""
    hands_over = HandoffReplies()
    results = []
    for level in args.levels:
        for system in systems:
            print(f"  {system.name}: {level} conversations ...", file=sys.stderr, flush=True)
            conversations, seconds = await run_level(
                system.target,
                system.channels,
                level,
                args.seconds,
                args.pace,
                pool.texts,
                hands_over,
            )
            turns = [turn for conversation in conversations for turn in conversation.turns]
            ledger = None
            if system.target.database_url:
                ledger = await check_stored(system.target.database_url, conversations)
            results.append(LevelResult(system.name, level, seconds, turns, ledger))
            print(f"  {results[-1].row()}", file=sys.stderr, flush=True)
    return ordered(results)


def measure(args: argparse.Namespace, work: Path) -> tuple[list[LevelResult], QuestionPool]:
    """Start the systems, leave the handing-over questions out of the pool, run the levels,
    stop the systems."""
    overrides: dict[str, Any] = {
        "escalate_after_not_found": 1_000_000,  # a missed question must not go quiet
        "tickets_per_conversation_per_hour": 1_000_000,
    }
    with contextlib.ExitStack() as on:
        if "wechat" in args.channels:
            from testkit.fake_wechat import FakeWeChat, ThreadedFakeWeChat

            fake = on.enter_context(ThreadedFakeWeChat(FakeWeChat()))
            overrides.update(wechat_overrides(fake.url))
        model = args.model or newest_model()
        systems = []
        if ASSISTANT in args.systems:
            mine = (
                dict(overrides, database_url=args.database_url) if args.database_url else overrides
            )
            stack = on.enter_context(
                running_assistant(model, args.faq_index, work, args.port_base, **mine)
            )
            systems.append(ours(ASSISTANT, stack.settings, args.channels))
        if CLUSTER in args.systems:
            cluster = on.enter_context(
                running_cluster(
                    model,
                    args.faq_index,
                    work / "cluster",
                    args.port_base + CLUSTER_PORT,
                    **overrides,
                )
            )
            systems.append(
                ours(CLUSTER, cluster.settings, args.channels, cluster.rasa_replica_urls)
            )
        if BARE in args.systems:
            url = on.enter_context(bare_assistant(args.port_base + BARE_PORT))
            systems.append(System(BARE, Target(url), ["rest"], [url]))
        warm_up(systems)
        nlu = systems[0]  # ours first: the model the customers talk to
        pool = asyncio.run(without_handoffs(nlu.target.rasa_url, nlu.api_token, question_pool()))
        print(
            f"  question pool: {len(pool.texts)} texts; left out as handing over: "
            f"{len(pool.left_out)}",
            file=sys.stderr,
            flush=True,
        )
        return asyncio.run(run_levels(systems, args, pool)), pool


# --- the report -----------------------------------------------------------------------------


def describe_pool(pool: QuestionPool) -> str:
    left_out = "; ".join(f"{text!r} ({intent})" for text, intent in pool.left_out.items())
    return (
        f"- Questions: {len(pool.texts)} texts, each FAQ entry's first 2 questions in English "
        "and Chinese, but for the entries about reaching a person; left out, because a dry run "
        f"of NLU read them as {' or '.join(sorted(pool.intents))} (they hand over): "
        f"{len(pool.left_out)}" + (f" ({left_out})" if left_out else "")
    )


def describe_systems(args: argparse.Namespace) -> str:
    parts = []
    if ASSISTANT in args.systems:
        parts.append(f"*{ASSISTANT}*: one process of each kind, database {args.database_kind}")
    if CLUSTER in args.systems:
        parts.append(
            f"*{CLUSTER}*: `python -m bot cluster`, 2 Rasa servers, 2 action servers and 2 web "
            "services behind nginx, PostgreSQL, Redis, RabbitMQ (bench/cluster_stack.py)"
        )
    if BARE in args.systems:
        parts.append(
            f"*{BARE}*: Rasa with the same NLU pipeline and data whose rules only utter a "
            "response (bench/bare_assistant.py), over REST"
        )
    return "; ".join(parts) + "; all started at once, each level run on each in turn"


def report(
    args: argparse.Namespace, results: Sequence[LevelResult], commit: str, pool: QuestionPool
) -> str:
    mode = f"one message every {args.pace:g} s each" if args.pace else "closed loop"
    lines = [
        f"## Load: {', '.join(args.channels)}, {mode} (issue 18)",
        f"- Command: `.venv/bin/python -m bench.load {shlex.join(sys.argv[1:])}`",
        f"- Date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; commit {commit}",
        f"- Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}; load average (1 min) at start {LOAD_AT_START:.2f}, "
        f"at the end {os.getloadavg()[0]:.2f}",
        f"- {args.seconds:g} s per level; {describe_systems(args)}",
        describe_pool(pool),
        "- Turn times and throughput count the answered turns; a customer whose reply is the "
        "handoff reply (*handoffs*) or who got no reply (*quiet turns*, left out of the times) "
        "goes on in a new conversation",
        "",
        *table(results),
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


def parse_systems(text: str, baseline: bool) -> list[str]:
    """``--systems`` as row names, in the order given (``--baseline`` adds the bare Rasa).

    >>> parse_systems("cluster,assistant", baseline=True)
    ['cluster', 'assistant', 'bare Rasa']
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--systems: {', '.join(unknown) or 'none'}; choose from {', '.join(SYSTEMS)}"
        )
    chosen = [SYSTEMS[n] for n in names]
    if baseline and BARE not in chosen:
        chosen.append(BARE)
    return list(dict.fromkeys(chosen))


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
    parser.add_argument(
        "--systems",
        default="assistant",
        help="comma-separated, of assistant, cluster, bare (default: assistant)",
    )
    parser.add_argument("--baseline", action="store_true", help="also the bare Rasa assistant")
    parser.add_argument("--port-base", type=int, default=18700)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--faq-index", type=Path, default=REPO / "var" / "faq_index")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    try:
        args.systems = parse_systems(args.systems, args.baseline)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    args.levels = [int(part) for part in args.levels.split(",") if part.strip()]
    args.channels = ["rest", "socketio", "wechat"] if args.channel == "mix" else [args.channel]
    args.database_kind = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        results, pool = measure(args, Path(work))
    text = report(args, results, _commit(), pool)
    print(text)
    if args.write_results:
        write_section(RESULTS, f"bench/load.py --channel {args.channel} --pace {args.pace:g}", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
