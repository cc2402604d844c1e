"""Which agents' replies follow the customer by e-mail, the widget's "seen" signal, and the
ticket a customer's e-mailed answer goes to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.domain.identity import VerifiedCustomer
from bot.domain.mail.continuation import MailOptions, mails_of_conversation
from bot.domain.mail.follow_up import follow_by_mail, follow_refused_by_mail, seen_in_widget
from bot.domain.mail.inbound import parse_mail
from bot.domain.mail.replies import store_reply
from bot.domain.mail.threads import thread_token
from bot.domain.transcripts import ConversationOfAnother
from bot.store.models import (
    Conversation,
    Identity,
    IdentityKind,
    OutboxMessage,
    Ticket,
    TicketStatus,
)
from tests.bot.domain import mail_samples as samples
from tests.bot.domain.mail_world import T0, a_conversation, an_agent_reply

OPTIONS = MailOptions(
    sender="Example Shop <support@shop.example>",
    reply_domain="reply.shop.example",
    delay=timedelta(minutes=3),
)


async def _follow(sessions, world, text="Here you go."):
    reply_id = await an_agent_reply(sessions, world, text)
    async with sessions() as session, session.begin():
        reply = await session.get_one(OutboxMessage, reply_id)
        return await follow_by_mail(session, OPTIONS, reply, T0)


async def test_a_widget_reply_waits_to_be_mailed_and_a_wechat_one_is_not(sessions):
    widget = await a_conversation(sessions)
    wechat = await a_conversation(sessions)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.id == wechat.conversation_id)
            .values(channel="wechat")
        )
    mail = await _follow(sessions, widget)
    assert mail is not None and mail.next_attempt_at == T0 + OPTIONS.delay
    assert await _follow(sessions, wechat) is None
    async with sessions() as session:
        [state] = await mails_of_conversation(session, widget.conversation_id)
        assert state.state == "waiting"
        assert await mails_of_conversation(session, wechat.conversation_id) == []


async def test_seen_in_the_widget_cancels_only_that_conversations_mail(sessions):
    world, other = await a_conversation(sessions), await a_conversation(sessions)
    await _follow(sessions, world)
    await _follow(sessions, other)
    async with sessions() as session, session.begin():
        assert await seen_in_widget(session, world.sender_id, None, T0) == 1
        assert await seen_in_widget(session, "web-" + "0" * 32, None, T0) == 0  # unknown
    async with sessions() as session:
        [seen] = await mails_of_conversation(session, world.conversation_id)
        [waiting] = await mails_of_conversation(session, other.conversation_id)
        assert (seen.state, waiting.state) == ("cancelled", "waiting")


async def test_a_signed_in_customers_conversation_needs_their_signature(sessions):
    world = await a_conversation(sessions)
    async with sessions() as session, session.begin():
        session.add(
            Identity(
                customer_id=world.customer_id,
                kind=IdentityKind.SHOP.value,
                value="c-42",
                verified=True,
            )
        )
    await _follow(sessions, world)
    with pytest.raises(ConversationOfAnother):
        async with sessions() as session, session.begin():
            await seen_in_widget(session, world.sender_id, VerifiedCustomer("c-1"), T0)
    async with sessions() as session:
        [state] = await mails_of_conversation(session, world.conversation_id)
        assert state.state == "waiting"
    async with sessions() as session, session.begin():
        assert await seen_in_widget(session, world.sender_id, VerifiedCustomer("c-42"), T0) == 1


async def _answer_by_mail(sessions, world, message_id: str):
    raw = samples.gmail_english(message_id=message_id)
    mail = parse_mail(raw)
    async with sessions() as session, session.begin():
        token = await thread_token(session, world.conversation_id, T0)
        return await store_reply(
            session,
            token=token,
            mail=mail,
            key=mail.key(raw),
            size=len(raw),
            envelope_sender=None,
            now=T0,
        )


async def test_an_answer_joins_the_open_ticket_and_after_it_is_resolved_opens_one(sessions):
    world = await a_conversation(sessions)
    joined = await _answer_by_mail(sessions, world, "first@mail.gmail.com")
    assert joined is not None and (joined.ticket_id, joined.ticket_opened) == (
        world.ticket_id,
        False,
    )
    async with sessions() as session, session.begin():
        resolved = await session.get_one(Ticket, world.ticket_id)
        resolved.status, resolved.resolved_at = TicketStatus.RESOLVED.value, T0
    later = await _answer_by_mail(sessions, world, "second@mail.gmail.com")
    assert later is not None and later.ticket_opened and later.ticket_id != world.ticket_id
    async with sessions() as session:
        ticket = await session.get_one(Ticket, later.ticket_id)
        assert (ticket.status, ticket.reason) == ("open", "requested")
        assert ticket.conversation_id == world.conversation_id
        assert ticket.question == "Thanks! The blue one, size M please."
        assert (await session.get_one(Ticket, world.ticket_id)).status == "resolved"


async def test_a_reply_wechat_refused_is_mailed_at_once(sessions):
    world = await a_conversation(sessions)
    reply_id = await an_agent_reply(sessions, world, "Your refund is on its way.")
    async with sessions() as session, session.begin():
        reply = await session.get_one(OutboxMessage, reply_id)
        mail = await follow_refused_by_mail(session, OPTIONS, reply, T0)
        assert mail is not None and mail.next_attempt_at == T0
    silent = await a_conversation(sessions, email=None)
    silent_reply = await an_agent_reply(sessions, silent, "Hello")
    async with sessions() as session, session.begin():
        reply = await session.get_one(OutboxMessage, silent_reply)
        assert await follow_refused_by_mail(session, OPTIONS, reply, T0) is None
