"""The outbox delivery worker against a stand-in for Rasa's HTTP API: replies to many customers
go out side by side, each customer's in the order they were written, one at a time."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.domain.auth import create_agent
from bot.domain.mail.continuation import MailOptions
from bot.domain.outbox import held_ids, next_pending
from bot.domain.tickets import Actor, open_ticket, reply
from bot.store.models import Conversation, MailOutboxMessage, OutboxMessage
from bot.workers.delivery import OutboxDelivery
from connectors.refusals import Undeliverable
from tests.bot.domain.mail_world import a_conversation, an_agent_reply
from vocabulary import EscalationReason, MetadataKey

MAIL = MailOptions("Shop <support@shop.example>", "reply.shop.example", timedelta(minutes=3))


class FakeRasa:
    """``POST /conversations/{id}/execute`` does what ``action_deliver_outbox`` does (utters the
    conversation's next undelivered row, tagged with its id) after ``delay`` seconds, or fails
    for the conversations in ``refused``; ``GET /conversations/{id}/tracker`` gives the events.
    It counts the calls in flight."""

    def __init__(self, sessions, delay: float = 0.05) -> None:
        self.sessions = sessions
        self.delay = delay
        self.events: dict[str, list[dict]] = defaultdict(list)
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight = 0
        self.overlapped_in_one_conversation = False
        self.refused: set[str] = set()
        self.closed: set[str] = set()  # WeChat's 48-hour window has closed for these

    async def execute(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        if sender in self.refused:
            return web.json_response({"message": "tracker locked"}, status=500)
        if sender in self.closed:
            error = f"An unexpected error occurred. Error: {Undeliverable('48 hours passed')}"
            return web.json_response({"message": error}, status=500)
        self.in_flight[sender] += 1
        self.overlapped_in_one_conversation |= self.in_flight[sender] > 1
        self.most_in_flight = max(self.most_in_flight, sum(self.in_flight.values()))
        try:
            await asyncio.sleep(self.delay)
            async with self.sessions() as session:
                row = await next_pending(session, sender, held_ids(self.events[sender]))
            if row is not None:
                metadata = {MetadataKey.OUTBOX_ID: row.id}
                self.events[sender].append({"event": "bot", "text": row.text, "metadata": metadata})
        finally:
            self.in_flight[sender] -= 1
        return web.json_response({})

    async def tracker(self, request: web.Request) -> web.Response:
        return web.json_response({"events": self.events[request.match_info["sender"]]})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/conversations/{sender}/execute", self.execute)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        return app


async def queue_replies(sessions, customers: int, replies: int) -> dict[str, list[str]]:
    """``replies`` agent replies to each of ``customers`` widget conversations."""
    written: dict[str, list[str]] = {}
    async with sessions() as session, session.begin():
        agent = await create_agent(session, "ann", "Ann", "ann's long passphrase", "agent")
        actor = Actor(agent.id, agent.display_name, agent.role)
        for number in range(customers):
            sender = f"web-{number}"
            ticket, _ = await open_ticket(
                session, sender, EscalationReason.REQUESTED, "hello?", [], "socketio", {}, ""
            )
            written[sender] = [f"reply {n} to {sender}" for n in range(replies)]
            for text in written[sender]:
                await reply(session, ticket.id, text, actor)
    return written


@pytest.fixture()
async def rasa(sessions):
    fake = FakeRasa(sessions)
    async with TestServer(fake.app()) as server:
        fake.url = str(server.make_url("")).rstrip("/")
        yield fake


async def test_replies_to_many_customers_go_out_side_by_side_each_in_order(sessions, rasa):
    written = await queue_replies(sessions, customers=6, replies=3)
    delivery = OutboxDelivery(sessions, rasa.url, "token", concurrency=4)
    async with aiohttp.ClientSession() as http:
        assert await delivery.deliver_once(http) == 18
    assert {sender: [e["text"] for e in rasa.events[sender]] for sender in written} == written
    assert rasa.most_in_flight == 4  # several customers at once, never more than asked
    assert not rasa.overlapped_in_one_conversation
    async with sessions() as session:
        assert all([await next_pending(session, sender) is None for sender in written])


async def test_a_failing_conversation_does_not_hold_up_the_others(sessions, rasa):
    written = await queue_replies(sessions, customers=3, replies=2)
    rasa.refused.add("web-1")
    delivery = OutboxDelivery(sessions, rasa.url, "token")
    async with aiohttp.ClientSession() as http:
        assert await delivery.deliver_once(http) == 4
    assert rasa.events["web-1"] == []
    assert [e["text"] for e in rasa.events["web-2"]] == written["web-2"]
    async with sessions() as session:
        waiting = await next_pending(session, "web-1")
    assert waiting is not None and waiting.attempts == 1 and "tracker locked" in waiting.last_error


async def test_a_reply_the_channel_refuses_for_good_goes_by_e_mail_to_who_left_an_address(
    sessions, rasa
):
    world = await a_conversation(sessions, email="ann@example.com")
    async with sessions() as session, session.begin():
        conversation = await session.get_one(Conversation, world.conversation_id)
        conversation.channel = "wechat"
    reply_id = await an_agent_reply(sessions, world, "Your refund is on its way.")
    rasa.closed.add(world.sender_id)
    refused: list[int] = []
    delivery = OutboxDelivery(sessions, rasa.url, "token", on_refused=refused.append, mail=MAIL)
    async with aiohttp.ClientSession() as http:
        assert await delivery.deliver_once(http) == 0
    assert refused == [world.ticket_id]
    async with sessions() as session:
        row = await session.get_one(OutboxMessage, reply_id)
        mails = (await session.scalars(select(MailOutboxMessage))).all()
    assert row.failed_at is not None and row.last_error == "48 hours passed"
    assert [(m.recipient, m.outbox_ids) for m in mails] == [("ann@example.com", [reply_id])]
    assert mails[0].next_attempt_at <= datetime.now(UTC)  # at once: no chat will show it
