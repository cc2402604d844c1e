"""What hostile messages cost everyone else: the input gate under a flood of oversized ones.

Starts the whole assistant on a fresh SQLite database, then measures over REST, in one run:

- ``answer``: an ordinary question from a fresh conversation, alone;
- ``refuse``: a 100 kB message (the gate refuses it before NLU; it once took 32 s of NLU);
- ``answer under flood``: an ordinary question while another client keeps sending 100 kB
  messages and messages with lone surrogates back to back.

Reports the median and p95 of each, and the ratio of the flooded answer to the lone one.

    .venv/bin/python -m bench.hostile [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from bench.ingestion import newest_model
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.migrate import upgrade

QUESTIONS = [
    "How do I reset my password?",
    "退款多久到账？",
    "Which payment methods do you accept?",
]
OVERSIZED = "where is my parcel " * 5500  # about 100 kB


def post(settings: Settings, body: bytes) -> int:
    request = urllib.request.Request(
        f"{settings.servers.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.rasa.rest_channel_token.get_secret_value()}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def timed(settings: Settings, body: bytes, expect: int) -> float:
    started = time.perf_counter()
    status = post(settings, body)
    elapsed = time.perf_counter() - started
    if status != expect:
        raise SystemExit(f"expected {expect}, got {status}")
    return elapsed


def question(n: int) -> bytes:
    text = QUESTIONS[n % len(QUESTIONS)]
    return json.dumps({"sender": f"bench-{uuid.uuid4().hex}", "message": text}).encode()


def flood(settings: Settings, stop: threading.Event, sent: list[int]) -> None:
    bodies = [
        json.dumps({"sender": "flood", "message": OVERSIZED}).encode(),
        b'{"sender": "x\\udc80y", "message": "hello"}',
    ]
    while not stop.is_set():
        post(settings, bodies[len(sent) % 2])
        sent.append(1)


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | {p95 * 1000:.0f} |"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hostile", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        settings = Settings(
            rasa_port=18005,
            action_port=18055,
            web_port=18080,
            run_dir=work / "run",
            database_url=f"sqlite:///{work / 'app.db'}",
        )
        asyncio.run(upgrade(settings.database.database_url))
        processes = assistant_processes(settings, newest_model(), work)
        start_in_order(processes, settings.supervision.startup_timeout)
        try:
            for n in range(3):  # warm up NLU and the FAQ index
                timed(settings, question(n), 200)
            alone = [timed(settings, question(n), 200) for n in range(args.rounds)]
            oversized = json.dumps({"sender": "big", "message": OVERSIZED}).encode()
            refused = [timed(settings, oversized, 413) for _ in range(args.rounds)]
            stop, sent = threading.Event(), []
            flooder = threading.Thread(target=flood, args=(settings, stop, sent))
            flooder.start()
            try:
                flooded = [timed(settings, question(n), 200) for n in range(args.rounds)]
            finally:
                stop.set()
                flooder.join()
        finally:
            for process in reversed(processes):
                process.stop()
    print("| request | n | median ms | p95 ms |")
    print("| --- | --- | --- | --- |")
    print(summary("ordinary question, alone", alone))
    print(summary("100 kB message (refused, 413)", refused))
    print(summary("ordinary question during the flood", flooded))
    ratio = statistics.median(flooded) / statistics.median(alone)
    print(f"\nflood: {len(sent)} hostile requests; flooded/alone median ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
