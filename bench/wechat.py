"""How much the WeChat channel adds to an answer: the same questions over Rasa's REST channel
and as encrypted WeChat callbacks (safe mode), answered passively, in one run.

Starts the whole assistant on a fresh SQLite database with the WeChat channel in safe mode and
WeChat's API faked on loopback; asks every shipped FAQ entry's second question variant (Chinese
and English) once over REST and once over WeChat, in alternation, each from a new customer.
The WeChat time runs from sending the signed, encrypted callback to having checked the reply's
signature and decrypted it.

    .venv/bin/python -m bench.wechat [--limit 120]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from bench.ingestion import newest_model
from bot.runtime.chat import send
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.migrate import upgrade
from faq_index.sources import load_sources
from testkit.fake_wechat import (
    APP_ID,
    APP_SECRET,
    ENCODING_AES_KEY,
    TOKEN,
    FakeWeChat,
    ThreadedFakeWeChat,
    WeChatCallbacks,
)

REPO = Path(__file__).resolve().parent.parent


def questions(limit: int) -> list[str]:
    asked = []
    for entry in load_sources([REPO / "data" / "faq"]):
        for localized in entry.texts.values():
            asked.append(localized.questions[min(1, len(localized.questions) - 1)])
    return asked[:limit]


def ask_wechat(settings: Settings, wechat: WeChatCallbacks, text: str, msg_id: int) -> bool:
    """One callback; whether a passive answer came back (else WeChat got ``success``)."""
    query, body = wechat.request(wechat.text(f"o{uuid.uuid4().hex[:27]}", text, str(msg_id)))
    connection = http.client.HTTPConnection(
        settings.servers.host, settings.servers.rasa_port, timeout=10
    )
    try:
        connection.request(
            "POST", f"/webhooks/wechat/webhook?{urllib.parse.urlencode(query)}", body=body
        )
        response = connection.getresponse()
        reply = wechat.open_reply(response.read())
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"WeChat callback answered {response.status}")
    return reply is not None and bool(reply.get("Content"))


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.wechat", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--limit", type=int, default=120)
    args = parser.parse_args()
    wechat = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
    rest, over_wechat, passive = [], [], 0
    with (
        tempfile.TemporaryDirectory(prefix="bench-wechat-") as tmp,
        ThreadedFakeWeChat(FakeWeChat()) as fake,
    ):
        work = Path(tmp)
        settings = Settings(
            rasa_port=17305,
            action_port=17355,
            web_port=17380,
            run_dir=work / "run",
            database_url=f"sqlite:///{work / 'app.db'}",
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret=APP_SECRET,
            wechat_encoding_aes_key=ENCODING_AES_KEY,
            wechat_api_base_url=fake.url,
        )
        asyncio.run(upgrade(settings.database.database_url))
        processes = assistant_processes(settings, newest_model(), work)
        start_in_order(processes, settings.supervision.startup_timeout)
        try:
            asked = questions(args.limit)
            for n, text in enumerate(asked):
                started = time.perf_counter()
                token = settings.rasa.rest_channel_token.get_secret_value()
                send(settings.servers.rasa_url, f"rest-{uuid.uuid4().hex}", text, token=token)
                rest.append(time.perf_counter() - started)
                started = time.perf_counter()
                passive += ask_wechat(settings, wechat, text, 10_000 + n)
                over_wechat.append(time.perf_counter() - started)
        finally:
            for process in reversed(processes):
                process.stop()
        sent_later = len(fake.fake.sent)
    ratios = [w / r for w, r in zip(over_wechat, rest, strict=True)]
    print("| channel | questions | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in (("REST", rest), ("WeChat, safe mode, passive reply", over_wechat)):
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(
            f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
            f"{p95 * 1000:.0f} | {max(values) * 1000:.0f} |"
        )
    print(f"\nmedian WeChat/REST ratio per question: {statistics.median(ratios):.2f}")
    print(f"answered passively: {passive}/{len(over_wechat)}; sent later by the API: {sent_later}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
