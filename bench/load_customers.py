"""The load benchmark's customers: one per channel (REST, the widget's socket.io, WeChat), and
the conversation each of them keeps up, handed-over conversations included.

A conversation the bot hands to people (a question NLU reads as a complaint or a request for a
person opens a ticket) goes quiet: the bot answers nothing while people have it. Such turns
take tens of milliseconds and would flatter the turn times, so a customer whose reply is the
handoff reply, or whose turn was quiet, starts a new conversation (a new sender id) for its
next message; the quiet turn is counted apart (:attr:`Turn.quiet`).

    runs = await converse(lambda: RestCustomer(target, http), "rest", texts, until, pace=0)
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Self

import aiohttp
import yaml

REPO = Path(__file__).resolve().parent.parent
TURN_TIMEOUT = 30.0
# WeChat's callback answers `success` when the turn outlasts this (the answer follows through
# the customer-service API): such a turn is answered, late, not quiet.
WECHAT_DEADLINE = 4.0
LATE = "past WeChat's deadline"
# Handoff responses that do not hand over: the ticket could not be opened.
NOT_HANDED_OVER = {"utter_handoff_unavailable", "utter_handoff_limited"}


@dataclass(frozen=True)
class Target:
    """Where the customers write: a Rasa server (or a load balancer in front of several)."""

    rasa_url: str
    rest_token: str = ""
    database_url: str = ""  # where their messages are stored; empty: not checked


@dataclass(frozen=True)
class Reply:
    """What one message got back: whether the channel took it, and the bot's texts."""

    accepted: bool
    texts: tuple[str, ...] = ()
    error: str = ""
    answered: bool | None = None  # None: answered when there are texts

    @property
    def has_answer(self) -> bool:
        return bool(self.texts) if self.answered is None else self.answered


@dataclass
class Turn:
    text: str
    seconds: float
    accepted: bool  # the channel said it took the message
    answered: bool
    error: str = ""
    handoff: bool = False  # the reply says the conversation went to people

    @property
    def quiet(self) -> bool:
        """Taken, and answered with nothing: the conversation is with people."""
        return self.accepted and not self.answered

    @property
    def timed(self) -> bool:
        """Counted in the turn times and the throughput: taken and answered."""
        return self.accepted and self.answered

    @property
    def ends_conversation(self) -> bool:
        return self.quiet or self.handoff


@dataclass
class CustomerRun:
    channel: str
    sender_id: str
    turns: list[Turn] = field(default_factory=list)


class LoadCustomer(Protocol):
    @property
    def sender_id(self) -> str: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def turn(self, text: str) -> Reply: ...


def _template(text: str) -> re.Pattern[str]:
    """A response's text as a pattern: its ``{placeholders}`` match anything."""
    parts = re.split(r"\{\w+\}", text.strip())
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


@functools.cache
def handoff_patterns(domain_file: Path = REPO / "domain.yml") -> tuple[re.Pattern[str], ...]:
    """Every language's text of the responses that tell a customer people have the
    conversation now (``utter_handoff_*`` but for the ones saying no ticket was opened)."""
    responses = yaml.safe_load(domain_file.read_text(encoding="utf-8"))["responses"]
    return tuple(
        _template(variant["text"])
        for name, variants in responses.items()
        if name.startswith("utter_handoff_") and name not in NOT_HANDED_OVER
        for variant in variants
        if variant.get("text")
    )


class HandoffReplies:
    """Tells the handoff reply from any other by the domain's own texts."""

    def __init__(self, patterns: Iterable[re.Pattern[str]] | None = None) -> None:
        self.patterns = list(handoff_patterns() if patterns is None else patterns)

    def __call__(self, texts: Sequence[str]) -> bool:
        return any(p.search(text) for text in texts for p in self.patterns)


async def timed_turn(
    customer: LoadCustomer, text: str, hands_over: Callable[[Sequence[str]], bool]
) -> Turn:
    started = time.monotonic()
    try:
        reply = await customer.turn(text)
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
        reply = Reply(False, error=type(exc).__name__)
    seconds = time.monotonic() - started
    return Turn(
        text,
        seconds,
        reply.accepted,
        reply.accepted and reply.has_answer,
        reply.error,
        handoff=hands_over(reply.texts),
    )


async def converse(
    open_customer: Callable[[], LoadCustomer],
    channel: str,
    texts: Sequence[str],
    until: float,
    pace: float,
    hands_over: Callable[[Sequence[str]], bool],
) -> list[CustomerRun]:
    """One customer sending ``texts`` in turn until ``until`` (monotonic), one every ``pace``
    seconds (0: at once); a new conversation after a handoff or a quiet turn. Each
    conversation's run, in order."""
    runs: list[CustomerRun] = []
    pending = iter(texts)
    text = next(pending, None)
    while text is not None and time.monotonic() < until:
        async with open_customer() as customer:
            run = CustomerRun(channel, customer.sender_id)
            runs.append(run)
            while text is not None and time.monotonic() < until:
                turn = await timed_turn(customer, text, hands_over)
                run.turns.append(turn)
                text = next(pending, None)
                if pace:
                    await asyncio.sleep(max(0.0, pace - turn.seconds))
                if turn.ends_conversation:
                    break
    return runs


# --- the channels ---------------------------------------------------------------------------


class RestCustomer:
    def __init__(self, target: Target, http: aiohttp.ClientSession) -> None:
        self.url = f"{target.rasa_url}/webhooks/rest/webhook"
        self.headers = {"Authorization": f"Bearer {target.rest_token}"} if target.rest_token else {}
        self.http = http
        self.sender_id = f"load-{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def turn(self, text: str) -> Reply:
        body = {"sender": self.sender_id, "message": text}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            if response.status != 200:
                return Reply(False, error=f"HTTP {response.status}")
            replies = await response.json()
            return Reply(True, tuple(r.get("text") or "" for r in replies), answered=bool(replies))


class WidgetCustomer:
    """One widget customer on the socket.io channel (a socket of its own). A quiet turn shows
    as no answer within TURN_TIMEOUT; the handoff reply before it ends the conversation."""

    def __init__(self, target: Target) -> None:
        from testkit.customers import Customer

        self.customer = Customer(target.rasa_url)

    @property
    def sender_id(self) -> str:
        return self.customer.sender_id

    async def __aenter__(self) -> Self:
        await self.customer.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.customer.__aexit__(*exc)

    async def turn(self, text: str) -> Reply:
        while not self.customer.received.empty():  # the rest of the previous turn's replies
            self.customer.received.get_nowait()
        await self.customer.say(text)
        try:
            message = await asyncio.wait_for(self.customer.received.get(), TURN_TIMEOUT)
        except TimeoutError:
            return Reply(False, error="no answer")
        return Reply(True, (message.get("text") or "",), answered=True)


class WeChatCustomer:
    """One WeChat follower: each message a callback signed and encrypted as WeChat sends it."""

    msg_ids = itertools.count(int(time.time()) * 1000)

    def __init__(self, target: Target, http: aiohttp.ClientSession) -> None:
        from testkit.fake_wechat import ENCODING_AES_KEY, WeChatCallbacks

        self.callbacks = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
        self.url = f"{target.rasa_url}/webhooks/wechat/webhook"
        self.http = http
        self.sender_id = f"o{uuid.uuid4().hex[:27]}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def turn(self, text: str) -> Reply:
        fields = self.callbacks.text(self.sender_id, text, str(next(self.msg_ids)))
        query, body = self.callbacks.request(fields)
        started = time.monotonic()
        async with self.http.post(self.url, params=query, data=body) as response:
            if response.status != 200:
                return Reply(False, error=f"HTTP {response.status}")
            reply = self.callbacks.open_reply(await response.read())
        if reply is None and time.monotonic() - started >= WECHAT_DEADLINE:
            return Reply(True, error=LATE, answered=True)  # the answer follows by the API
        return Reply(True, (reply.get("Content", ""),) if reply else (), answered=bool(reply))


def customer_factory(
    channel: str, target: Target, http: aiohttp.ClientSession
) -> Callable[[], LoadCustomer]:
    """What opens a new conversation on ``channel``."""
    if channel == "rest":
        return lambda: RestCustomer(target, http)
    if channel == "socketio":
        return lambda: WidgetCustomer(target)
    return lambda: WeChatCustomer(target, http)
