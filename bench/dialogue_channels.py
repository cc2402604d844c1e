"""The conversation benchmark over the WeChat and socket.io channels (``--channels``).

The same items as over REST, each from a new customer: as encrypted WeChat callbacks (safe
mode, WeChat's API faked on loopback) and as the widget's socket.io messages. The outcome is
read from the tracker once the bot has finished each turn, as for REST.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.dialogue_data import Item
from bench.dialogue_scoring import Result, judge
from testkit.customers import Customer
from testkit.fake_wechat import ENCODING_AES_KEY, WeChatCallbacks

TURN_TIMEOUT = 60.0


@dataclass(frozen=True)
class Agreement:
    """How many outcomes over another channel agree with REST's for the same items."""

    channel: str
    n: int
    same_category: int
    same_outcome: int  # same kind and same entry (or the same buttons)
    differences: list[tuple[Result, Result]]


def agreement(channel: str, rest: Sequence[Result], other: Sequence[Result]) -> Agreement:
    by_id = {r.item.id: r for r in rest}
    pairs = [(by_id[o.item.id], o) for o in other if o.item.id in by_id]
    return Agreement(
        channel,
        len(pairs),
        sum(r.category == o.category for r, o in pairs),
        sum(r.seen.signature() == o.seen.signature() for r, o in pairs),
        [(r, o) for r, o in pairs if r.seen.signature() != o.seen.signature()],
    )


class WeChatDriver:
    """Plays WeChat's servers: one signed, encrypted callback per customer message."""

    def __init__(self, host: str, port: int, tracker: Callable[[str], dict]) -> None:
        self.host, self.port, self.tracker = host, port, tracker
        self.callbacks = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
        self.msg_ids = itertools.count(int(time.time()) * 1000)

    def post(self, openid: str, text: str) -> None:
        fields = self.callbacks.text(openid, text, str(next(self.msg_ids)))
        query, body = self.callbacks.request(fields)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TURN_TIMEOUT)
        try:
            connection.request(
                "POST", f"/webhooks/wechat/webhook?{urllib.parse.urlencode(query)}", body=body
            )
            response = connection.getresponse()
            self.callbacks.open_reply(response.read())  # checks the reply's signature
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"WeChat callback answered {response.status}")

    def run(self, items: Sequence[Item], wait_turn: Callable[[str, int], dict]) -> list[Result]:
        results = []
        for item in items:
            openid = f"o{uuid.uuid4().hex[:27]}"
            latencies = []
            for n, text in enumerate(item.turns, start=1):
                started = time.perf_counter()
                self.post(openid, text)
                wait_turn(openid, n)  # a slow turn goes on after WeChat's response
                latencies.append(time.perf_counter() - started)
            results.append(judge(item, self.tracker(openid)["events"], latencies))
        return results


async def _socketio_item(rasa_url: str, item: Item, wait_turn: Callable[[str, int], dict]):
    async with Customer(rasa_url) as customer:
        latencies = []
        for n, text in enumerate(item.turns, start=1):
            started = time.perf_counter()
            await customer.say(text, dict(item.metadata) if item.metadata else None)
            events = await asyncio.to_thread(wait_turn, customer.sender_id, n)
            latencies.append(time.perf_counter() - started)
        return judge(item, events["events"], latencies)


def run_socketio(
    rasa_url: str, items: Sequence[Item], wait_turn: Callable[[str, int], dict]
) -> list[Result]:
    """Each item from a new widget session (a new 128-bit secret)."""

    async def all_items() -> list[Result]:
        return [await _socketio_item(rasa_url, item, wait_turn) for item in items]

    return asyncio.run(all_items())
