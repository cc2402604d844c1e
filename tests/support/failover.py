"""Conversations streaming REST messages through a cluster's nginx while a test breaks a part of
it (kills a replica, restarts RabbitMQ); what their customers saw, and what their profiles kept.

Each conversation sends a message, waits for the answer, pauses :data:`PAUSE` seconds, and so
on, as a customer would. A 503 (the action server went away during the turn: see
:mod:`connectors.rest`) is sent again after its ``retry_after``, as the REST contract asks; any
other failure is counted and the conversation goes on with its next message (the client cannot
tell whether that one was stored).

>>> stream = asyncio.run(stream_during(cluster, lambda: cluster.kill("rasa-2")))  # doctest: +SKIP
>>> print(what_clients_saw(stream).text)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from tests.support.cluster import ClusterRun, customer_texts, tracker_user_texts

CONVERSATIONS = 50
PAUSE = 5.0  # between a conversation's answer and its next message
BEFORE = 30.0  # at most, until every conversation had an answer: then the disruption
AFTER = 20.0  # seconds of traffic after the disruption began ...
SETTLED = 10.0  # ... and at least this long after it ended (a restart takes a while)
SENDS = 6  # a message answered 503 is sent at most this often in all
LATE = 60.0  # how long after the stream's end a conversation not answered since goes on trying
STORED_WITHIN = 60.0  # seconds ingestion has to store every accepted message after the stream,
STALLED = 30.0  # ... or as long as it stores more within this long (a backlog, not a loss) ...
STORED_AT_MOST = 300.0  # ... up to this long
QUESTIONS = [
    "Where is my order?",
    "How long does a refund take?",
    "How do I reset my password?",
    "How do I get an invoice?",
    "Can I pay with PayPal?",
    "I want to change my delivery address",
    "What is your return policy?",
    "Do you ship abroad?",
    "How do I cancel my order?",
    "When will my parcel arrive?",
    "Is there a warranty?",
    "How do I use a coupon?",
]


@dataclass
class Sent:
    """One HTTP request of a conversation."""

    text: str
    status: int  # 0: no HTTP answer
    started: float
    ended: float
    attempt: int = 1  # 2, 3 ...: sent again after a 503


@dataclass
class Stream:
    results: dict[str, list[Sent]]  # each conversation's requests, as its client saw them
    disrupted_at: float  # time.monotonic() when the disruption began
    disrupted_for: float  # seconds the disruption itself took (0 for a kill)
    ended_at: float  # time.monotonic() when the last conversation had its last answer


async def _post(
    http: aiohttp.ClientSession, url: str, token: str, sender: str, text: str
) -> tuple[int, float | None]:
    """(status, retry_after of a 503); status 0 when no HTTP answer came."""
    try:
        async with http.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            retry_after = None
            if response.status == 503:
                try:
                    retry_after = float((await response.json())["retry_after"])
                except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
                    retry_after = None
            else:
                await response.read()
            return response.status, retry_after
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0, None


async def _converse(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    sender: str,
    times: list[float],
    sent: list[Sent],
) -> None:
    """Until ``times[0]`` (the stream's end) has passed and a message of the conversation sent
    after ``times[1]`` (the disruption) was answered 200, or :data:`LATE` seconds later."""
    for number, question in enumerate(QUESTIONS * 5):
        stop_at, disrupted_at = times
        now = time.monotonic()
        if now > stop_at and (
            now > stop_at + LATE or any(m.started >= disrupted_at and m.status == 200 for m in sent)
        ):
            break
        text = f"{question} ({number})"  # each message of a conversation told apart
        for attempt in range(1, SENDS + 1):
            started = time.monotonic()
            status, retry_after = await _post(http, url, token, sender, text)
            sent.append(Sent(text, status, started, time.monotonic(), attempt))
            if retry_after is None:  # sent again even after the stream's end: one message
                break
            await asyncio.sleep(retry_after)
        await asyncio.sleep(PAUSE)


async def stream_during(
    cluster: ClusterRun, disrupt: Callable[[], object], conversations: int = CONVERSATIONS
) -> Stream:
    """``conversations`` conversations through nginx; once each had an answer (or after
    :data:`BEFORE` seconds), ``disrupt()`` runs in a thread while they go on, for :data:`AFTER`
    seconds from its start and at least :data:`SETTLED` seconds after its end (and until each
    conversation had a message sent after its start answered: see :func:`_converse`)."""
    token = cluster.secrets["REST_CHANNEL_TOKEN"]
    run = uuid.uuid4().hex[:8]
    senders = [f"failover-{run}-{i}" for i in range(conversations)]
    results: dict[str, list[Sent]] = {s: [] for s in senders}
    times = [float("inf"), float("inf")]  # the stream's end, the disruption's start
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        streams = [
            asyncio.create_task(_converse(http, cluster.rasa_url, token, s, times, results[s]))
            for s in senders
        ]
        deadline = time.monotonic() + BEFORE
        while time.monotonic() < deadline and not all(
            any(m.status == 200 for m in said) for said in results.values()
        ):
            await asyncio.sleep(0.2)
        disrupted_at = time.monotonic()
        times[:] = [disrupted_at + AFTER, disrupted_at]
        await asyncio.to_thread(disrupt)
        disrupted_for = time.monotonic() - disrupted_at
        times[0] = max(times[0], time.monotonic() + SETTLED)
        await asyncio.gather(*streams)
    return Stream(results, disrupted_at, disrupted_for, time.monotonic())


@dataclass
class Message:
    """One message of a conversation, over all its sends."""

    text: str
    sends: list[Sent] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return any(s.status == 200 for s in self.sends)

    @property
    def started(self) -> float:
        return self.sends[0].started

    @property
    def delay(self) -> float:
        """From its first send until the answer the customer got (the last)."""
        return self.sends[-1].ended - self.sends[0].started


def messages(sent: list[Sent]) -> list[Message]:
    found: dict[str, Message] = {}
    for request in sent:
        found.setdefault(request.text, Message(request.text)).sends.append(request)
    return list(found.values())


def accepted_texts(stream: Stream) -> dict[str, list[str]]:
    """What each client was told was accepted (REST 200), in the order it was sent."""
    return {
        sender: [m.text for m in messages(sent) if m.accepted]
        for sender, sent in stream.results.items()
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


@dataclass
class Seen:
    """What the customers saw, in figures and in one paragraph."""

    conversations: int
    accepted: int
    accepted_before: int  # answered 200 before the disruption began
    conversations_on_after: int  # conversations with a message accepted after it began
    failed: Counter[int]  # non-200 answers by status (0: none)
    resent: int  # sends after a 503
    p95_before: float  # delay of the accepted messages answered before the disruption
    p95_after: float  # ... of those sent after it began
    resumed_within: float  # the longest delay of a conversation's first message after it
    text: str


def what_clients_saw(stream: Stream) -> Seen:
    at = stream.disrupted_at
    every = [request for sent in stream.results.values() for request in sent]
    failed = Counter(request.status for request in every if request.status != 200)
    by_conversation = {s: messages(sent) for s, sent in stream.results.items()}
    all_messages = [m for found in by_conversation.values() for m in found]
    accepted = [m for m in all_messages if m.accepted]
    before = [m.delay for m in accepted if m.sends[-1].ended < at]
    after = [m.delay for m in accepted if m.started >= at]
    resumed = []
    for found in by_conversation.values():
        first = next((m for m in found if m.accepted and m.started >= at), None)
        if first is not None:
            resumed.append(first.delay)
    never = [m for m in all_messages if not m.accepted]
    resent = sum(1 for request in every if request.attempt > 1)
    when_failed = sorted({round(r.started - at) for r in every if r.status != 200})
    text = (
        f"{len(all_messages)} messages from {len(by_conversation)} conversations, "
        f"{len(accepted)} accepted (200); failed answers: {dict(failed) or 'none'} "
        f"(sent at {when_failed} s from the disruption), {resent} sends again after a 503, "
        f"{len(never)} messages never accepted; delay p50 "
        f"{statistics.median([m.delay for m in accepted]) if accepted else 0:.2f} s, "
        f"before the disruption p95 {_p95(before):.2f} s, after it p95 {_p95(after):.2f} s, "
        f"max {max(after, default=0):.2f} s; each conversation's first message after it "
        f"answered within {max(resumed, default=float('inf')):.1f} s "
        f"(median {statistics.median(resumed) if resumed else float('inf'):.1f} s); "
        f"the disruption took {stream.disrupted_for:.1f} s"
    )
    return Seen(
        conversations=len(by_conversation),
        accepted=len(accepted),
        accepted_before=len(before),
        conversations_on_after=len(resumed),
        failed=failed,
        resent=resent,
        p95_before=_p95(before),
        p95_after=_p95(after),
        resumed_within=max(resumed, default=float("inf")),
        text=text,
    )


async def stored_messages(
    cluster: ClusterRun, stream: Stream
) -> tuple[dict[str, list[str]], str, float]:
    """What each customer said as their profile has it, once every accepted message is there,
    the accepted ones missing, described ("" when none), and the seconds from the stream's end
    until all were there (inf: never). Ingestion has :data:`STORED_WITHIN` seconds, and longer
    while it still stores more every :data:`STALLED` seconds (up to :data:`STORED_AT_MOST`)."""
    accepted = accepted_texts(stream)
    deadline = stream.ended_at + STORED_WITHIN
    last_count, progress_at = -1, time.monotonic()
    while True:
        stored = await customer_texts(cluster.database_url, list(accepted))
        missing = {s: set(texts) - set(stored[s]) for s, texts in accepted.items()}
        if not any(missing.values()):
            return stored, "", time.monotonic() - stream.ended_at
        count = sum(len(texts) for texts in stored.values())
        if count != last_count:
            last_count, progress_at = count, time.monotonic()
        now = time.monotonic()
        if now > deadline and (
            now - progress_at > STALLED or now - stream.ended_at > STORED_AT_MOST
        ):
            break
        await asyncio.sleep(0.5)
    tracker = await tracker_user_texts(cluster.database_url, list(accepted))
    at = stream.disrupted_at
    lines = [
        f"{s[-3:]} {m.text!r} sent {m.started - at:+.1f} s, answered "
        f"{m.sends[-1].ended - at:+.1f} s from the disruption; in Rasa's tracker: "
        f"{m.text in tracker[s]}"
        for s, texts in missing.items()
        for m in messages(stream.results[s])
        if m.text in texts
    ]
    waited = time.monotonic() - stream.ended_at
    described = (
        f"{len(lines)} accepted messages not stored {waited:.0f} s after the stream "
        f"(the last progress {time.monotonic() - progress_at:.0f} s before):\n" + "\n".join(lines)
    )
    return stored, described, float("inf")


def doubled_or_out_of_order(stream: Stream, stored: dict[str, list[str]]) -> list[str]:
    """Each conversation whose profile has a message twice, one never sent, or the accepted
    messages in another order than they were sent, described."""
    problems = []
    for sender, sent in stream.results.items():
        said = stored[sender]
        accepted = [m.text for m in messages(sent) if m.accepted]
        if len(said) != len(set(said)):
            problems.append(f"{sender}: a message twice: {said}")
        if not set(said) <= {m.text for m in sent}:
            problems.append(f"{sender}: a message never sent: {said}")
        if [t for t in accepted if t in said] != [t for t in said if t in accepted]:
            problems.append(f"{sender}: out of order: sent {accepted}, stored {said}")
    return problems
