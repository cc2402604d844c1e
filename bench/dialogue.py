"""End-to-end conversation benchmark: customers' messages against the whole running assistant.

Starts the assistant (web service, action server, Rasa) on a fresh SQLite database and a copy
of the FAQ index, sends each item of ``bench/dialogue_messages.yml`` over Rasa's REST channel
from a new conversation (several turns for the yes/no items; the last one is judged), and
reads what the bot did from the tracker: the FAQ decision and entry, the buttons it offered, a
ticket, the actions and responses of the turn. Each item is then right, right entry among the
buttons, a wrong answer, a needless "not found", or other (see bench/dialogue_scoring.py).
Latency is each message's REST round trip.

    .venv/bin/python -m bench.dialogue [--split dev|test|all] [--group typos]
        [--show-failures] [--write-results] [--channels]

Tune on the dev half; the test half is what bench/RESULTS.md reports (--write-results).
``--channels`` also sends a subset of the chosen items (30 by default) over the WeChat
channel (safe mode, WeChat's API faked on loopback) and the widget's socket.io channel, and
counts the outcomes that agree with REST. Every result, with the bot's replies, is written
to var/bench/dialogue-last.json for inspection.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from bench import dialogue_data as data
from bench import dialogue_scoring as scoring
from bench.dialogue_report import describe_result, report_text
from bench.ingestion import newest_model
from bench.results_file import write_section
from bench.stack import running_assistant, wechat_overrides
from bot.runtime.chat import send
from bot.runtime.processes import ManagedProcess
from bot.settings import Settings
from faq_index.sources import load_sources

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "dialogue_messages.yml"
RECORD = REPO / "var" / "bench" / "dialogue-last.json"
RESULTS = REPO / "bench" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()[0]


class Stack:
    """The running assistant: send over REST, read trackers."""

    def __init__(self, settings: Settings, processes: list[ManagedProcess]) -> None:
        self.settings = settings
        self.processes = processes

    def send(self, sender: str, text: str, metadata: dict | None) -> float:
        """Send one message over REST; the round trip in seconds (a refusal is not an error:
        the tracker then lacks the message)."""
        token = self.settings.rasa.rest_channel_token.get_secret_value()
        started = time.perf_counter()
        with contextlib.suppress(urllib.error.HTTPError):
            send(self.settings.servers.rasa_url, sender, text, metadata=metadata, token=token)
        return time.perf_counter() - started

    def tracker(self, sender: str) -> dict:
        token = urllib.parse.quote(self.settings.rasa.rasa_api_token.get_secret_value())
        url = f"{self.settings.servers.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker"
        with urllib.request.urlopen(f"{url}?token={token}", timeout=30) as response:
            return json.loads(response.read())

    def wait_turn(self, sender: str, messages: int, timeout: float = 60.0) -> dict:
        """The tracker once it holds ``messages`` user messages and the bot is listening."""
        deadline = time.monotonic() + timeout
        while True:
            tracker = self.tracker(sender)
            if scoring.turn_complete(tracker.get("events") or [], messages):
                return tracker
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sender}: turn {messages} not finished after {timeout} s")
            time.sleep(0.05)


@contextlib.contextmanager
def running_stack(args: argparse.Namespace, work: Path, wechat_url: str = "") -> Iterator[Stack]:
    overrides = wechat_overrides(wechat_url) if wechat_url else {}
    with running_assistant(args.model, args.faq_index, work, args.port_base, **overrides) as run:
        yield Stack(run.settings, run.processes)


def run_rest(stack: Stack, items: Sequence[data.Item]) -> list[scoring.Result]:
    results = []
    for n, item in enumerate(items, start=1):
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        metadata = dict(item.metadata) if item.metadata else None
        latencies = [stack.send(sender, text, metadata) for text in item.turns]
        results.append(scoring.judge(item, stack.tracker(sender)["events"], latencies))
        if n % 25 == 0 or n == len(items):
            print(f"  REST: {n}/{len(items)} items", file=sys.stderr, flush=True)
    return results


def run_channels(stack: Stack, subset: Sequence[data.Item]) -> dict[str, list]:
    from bench.dialogue_channels import WeChatDriver, run_socketio

    print(f"  WeChat and socket.io: {len(subset)} items each", file=sys.stderr, flush=True)
    settings = stack.settings
    wechat = WeChatDriver(settings.servers.host, settings.servers.rasa_port, stack.tracker)
    return {
        "WeChat (safe mode)": wechat.run(subset, stack.wait_turn),
        "socket.io (widget)": run_socketio(settings.servers.rasa_url, subset, stack.wait_turn),
    }


def chosen_items(args: argparse.Namespace) -> list[data.Item]:
    items = data.load_items(args.data)
    entry_ids = {entry.id for entry in load_sources([REPO / "data" / "faq"])}
    found = data.problems(items, entry_ids)
    if found:
        sys.exit("bad benchmark data:\n  " + "\n  ".join(found))
    groups = {g for value in args.group or [] for g in value.split(",") if g}
    unknown = groups - set(data.GROUPS)
    if unknown:
        sys.exit(f"unknown group(s) {sorted(unknown)}; groups: {', '.join(data.GROUPS)}")
    return [
        i
        for i in items
        if (args.split == "all" or i.split == args.split) and (not groups or i.group in groups)
    ]


def context_lines(args: argparse.Namespace) -> list[str]:
    """Command, date, machine, load and the system's version, for RESULTS.md."""
    interpreter = os.path.relpath(sys.executable, REPO)
    command = shlex.join([interpreter, "-m", "bench.dialogue", *sys.argv[1:]])

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    changed = len(git("status", "--porcelain").splitlines())
    index_version = (args.faq_index / "CURRENT").read_text(encoding="utf-8").strip()
    trained = datetime.fromtimestamp(args.model.stat().st_mtime, timezone.utc)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return [
        f"- Command: `{command}`",
        f"- Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, "
        f"{platform.platform()}, Python {platform.python_version()}",
        f"- Load average (1 min) at start: {LOAD_AT_START:.2f} (a shared machine: a high load "
        "inflates latencies)",
        f"- System: commit {git('rev-parse', '--short', 'HEAD')} with {changed} uncommitted "
        f"paths; Rasa model {args.model.name} (trained {trained:%Y-%m-%d %H:%M} UTC); "
        f"FAQ index version {index_version}",
    ]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dialogue", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--group", action="append", help="only these groups (comma-separated)")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--write-results", action="store_true", help="test half -> RESULTS.md")
    parser.add_argument("--channels", action="store_true", help="also over WeChat and socket.io")
    parser.add_argument("--channel-items", type=int, default=30)
    parser.add_argument(
        "--port-base", type=int, default=18100, help="rasa +5, actions +55, web +80"
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, default=None, help="default: newest in models/")
    parser.add_argument("--faq-index", type=Path, default=REPO / "var" / "faq_index")
    parser.add_argument("--record", type=Path, default=RECORD, help="every result, as JSON")
    args = parser.parse_args(argv)
    args.model = (args.model or newest_model()).resolve()
    args.faq_index = args.faq_index.resolve()
    if args.write_results and args.split == "dev":
        parser.error("--write-results reports the test half: use --split test or all")
    if not (args.faq_index / "CURRENT").is_file():
        parser.error(f"no FAQ index in {args.faq_index}: run `make index`")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO)  # the process specs name the Rasa venv and PYTHONPATH relative to it
    items = chosen_items(args)
    subset = data.channel_subset(
        [i for i in items if i.split != "dev"] or items, args.channel_items
    )
    channels: dict[str, list] = {}
    with contextlib.ExitStack() as stack_of:
        wechat_url = ""
        if args.channels:
            from testkit.fake_wechat import FakeWeChat, ThreadedFakeWeChat

            wechat_url = stack_of.enter_context(ThreadedFakeWeChat(FakeWeChat())).url
        work = Path(stack_of.enter_context(tempfile.TemporaryDirectory(prefix="bench-dialogue-")))
        print(f"starting the assistant ({args.model.name}) ...", file=sys.stderr, flush=True)
        stack = stack_of.enter_context(running_stack(args, work, wechat_url))
        results = run_rest(stack, items)
        if args.channels:
            channels = run_channels(stack, subset)
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(
        json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if args.show_failures:
        for result in results:
            if result.category != scoring.RIGHT:
                print(describe_result(result), end="\n\n")
    print(report_text(results, channels, args.show_failures))
    print(f"\nevery result, with the bot's replies: {os.path.relpath(args.record)}")
    if args.write_results:
        test = [r for r in results if r.item.split == "test"]
        text = report_text(test, channels, False, context_lines(args))
        write_section(RESULTS, "bench/dialogue.py", text)
        print(f"test half written to {os.path.relpath(RESULTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
