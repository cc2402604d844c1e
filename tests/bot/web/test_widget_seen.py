"""An agent's reply waits to be e-mailed; the widget's "seen" signal cancels the mail, only for
the holder of the conversation's secret (and a signed-in customer's signature)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.domain.auth import create_agent
from bot.domain.identity import sign
from bot.domain.mail.consent import record_consent
from bot.domain.mail.continuation import mails_of_conversation
from bot.domain.tickets import open_ticket
from bot.settings import Settings
from bot.store.models import Conversation
from bot.web.app import create_app
from connectors.widget_session import widget_sender_id
from tests.bot.conftest import PASSWORDS, sign_in
from tests.bot.domain.mail_world import T0
from vocabulary import EscalationReason

SECRET = "identity secret of the seen tests"
ANON, SIGNED, STRANGER = "a" * 32, "b" * 32, "c" * 32


async def _ticket(sessions, widget_secret: str, metadata: dict) -> tuple[int, int]:
    """A widget conversation's ticket, its customer agreed to e-mail; (ticket, conversation)."""
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session,
            widget_sender_id(widget_secret),
            EscalationReason.REQUESTED,
            "where is my parcel?",
            [],
            "socketio",
            metadata,
            SECRET,
        )
        conversation = await session.get_one(Conversation, ticket.conversation_id)
        await record_consent(session, conversation.customer_id, "ann@example.com", "chat", T0)
        return ticket.id, conversation.id


@pytest.fixture()
async def mail_client(sessions, database_url):
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORDS["ann"], "admin")
    settings = Settings(
        database_url=database_url,
        rasa_port=1,
        rasa_api_token="unused",
        identity_secret=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=1,  # never reached: the delay outlasts the test
        mail_from="Shop <support@shop.example>",
        email_continuity_delay=3600,
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def _reply(client: TestClient, ticket_id: int, *texts: str) -> None:
    token = await sign_in(client, "ann")
    for text in texts:
        response = await client.post(
            f"/api/tickets/{ticket_id}/reply", json={"text": text}, headers={"X-CSRF-Token": token}
        )
        assert response.status == 200, await response.text()


async def _states(sessions, conversation_id: int) -> list[str]:
    async with sessions() as session:
        return [mail.state for mail in await mails_of_conversation(session, conversation_id)]


async def test_replies_wait_as_one_mail_until_the_widget_shows_them(mail_client, sessions):
    ticket_id, conversation_id = await _ticket(sessions, ANON, {})
    await _reply(mail_client, ticket_id, "Let me check.", "It left today.")
    assert await _states(sessions, conversation_id) == ["waiting"]

    stranger = await mail_client.post("/widget/seen", json={"session_id": STRANGER})
    assert stranger.status == 204  # another conversation's secret changes nothing here
    assert await _states(sessions, conversation_id) == ["waiting"]

    seen = await mail_client.post("/widget/seen", json={"session_id": ANON})
    assert seen.status == 204 and seen.headers["Access-Control-Allow-Origin"] == "*"
    assert await _states(sessions, conversation_id) == ["cancelled"]


async def test_a_signed_in_customers_widget_must_prove_them(mail_client, sessions):
    signature = {"customer_id": "c-5", "customer_hash": sign("c-5", SECRET)}
    ticket_id, conversation_id = await _ticket(sessions, SIGNED, signature)
    await _reply(mail_client, ticket_id, "Hello")
    forged = {"customer_id": "c-5", "customer_hash": sign("c-5", "another secret")}
    for body in ({"session_id": SIGNED}, {"session_id": SIGNED, **forged}):
        response = await mail_client.post("/widget/seen", json=body)
        assert response.status == 403
    assert await _states(sessions, conversation_id) == ["waiting"]
    response = await mail_client.post("/widget/seen", json={"session_id": SIGNED, **signature})
    assert response.status == 204
    assert await _states(sessions, conversation_id) == ["cancelled"]


async def test_bad_signals_are_refused(mail_client, sessions):
    for body in ({"session_id": "guess"}, {"session_id": ["a" * 32]}, {}, [1, 2]):
        response = await mail_client.post("/widget/seen", json=body)
        assert response.status == 400, body
    async with sessions() as session:
        assert (await session.scalars(select(Conversation))).all() == []
