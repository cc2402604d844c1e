"""Consent, reply tokens, and the continuation mail: one mail for several quick replies, none
once the customer saw them, none without consent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.mail.addresses import InvalidAddress
from bot.domain.mail.consent import consented_address, record_consent, withdraw_consent
from bot.domain.mail.continuation import (
    MailOptions,
    mails_of_conversation,
    queue_continuation,
    replies_seen,
)
from bot.domain.mail.inbound import parse_mail
from bot.domain.mail.replies import store_reply
from bot.domain.mail.threads import conversation_of_token, thread_token
from bot.domain.privacy import delete_customer
from bot.store.models import Customer, EmailConsent, MailOutboxMessage, MailThread
from tests.bot.domain import mail_samples as samples
from tests.bot.domain.mail_world import T0, a_conversation, an_agent_reply
from tests.conftest import tables_containing

OPTIONS = MailOptions(
    sender="Example Shop <support@shop.example>",
    reply_domain="reply.shop.example",
    delay=timedelta(minutes=3),
    shop_name="Example Shop",
    chat_url="https://shop.example/help",
)


async def test_consent_is_stored_with_the_address_on_the_profile(sessions):
    world = await a_conversation(sessions, email=None)
    async with sessions() as session, session.begin():
        stored = await record_consent(session, world.customer_id, " Ann@Example.COM ", "chat", T0)
    async with sessions() as session:
        customer = await session.get_one(Customer, world.customer_id)
        consent = await session.get_one(EmailConsent, world.customer_id)
        assert stored == customer.email == consent.address == "Ann@example.com"
        assert (consent.source, consent.given_at) == ("chat", T0)


async def test_a_bad_address_changes_nothing(sessions):
    world = await a_conversation(sessions, email=None)
    with pytest.raises(InvalidAddress):
        async with sessions() as session, session.begin():
            await record_consent(session, world.customer_id, "ann@localhost", "chat", T0)
    async with sessions() as session:
        assert (await session.get_one(Customer, world.customer_id)).email is None
        assert await consented_address(session, world.customer_id) is None


async def test_the_reply_token_is_made_once_per_conversation(sessions):
    world, other = await a_conversation(sessions), await a_conversation(sessions)
    async with sessions() as session, session.begin():
        token = await thread_token(session, world.conversation_id, T0)
        assert await thread_token(session, world.conversation_id, T0) == token
        assert await thread_token(session, other.conversation_id, T0) != token
        found = await conversation_of_token(session, token.upper())
        assert found is not None and found.id == world.conversation_id
        assert await session.scalar(select(func.count()).select_from(MailThread)) == 2


async def test_quick_replies_go_out_as_one_mail_with_all_of_them(sessions):
    world = await a_conversation(sessions, question="Where is my order?")
    first = await an_agent_reply(sessions, world, "Let me check.")
    second = await an_agent_reply(sessions, world, "It ships <today>.", minutes=2)
    async with sessions() as session, session.begin():
        mail = await queue_continuation(session, OPTIONS, outbox_id=first, now=T0)
        again = await queue_continuation(session, OPTIONS, outbox_id=second, now=T0)
        assert mail is not None and again is not None and again.id == mail.id
    async with sessions() as session:
        [mail] = (await session.scalars(select(MailOutboxMessage))).all()
        assert mail.outbox_ids == [first, second]
        assert mail.recipient == "ann@example.com"
        assert mail.next_attempt_at == T0 + timedelta(minutes=3)
        assert "Where is my order?" in mail.text_body and "Let me check." in mail.text_body
        assert "It ships &lt;today&gt;." in mail.html_body and mail.ticket_id == world.ticket_id


async def test_a_reply_after_the_mail_left_starts_a_new_threaded_mail(sessions):
    world = await a_conversation(sessions)
    async with sessions() as session, session.begin():
        first = await queue_continuation(
            session, OPTIONS, outbox_id=await an_agent_reply(sessions, world, "One"), now=T0
        )
        assert first is not None
        first.claimed_at = first.sent_at = T0 + timedelta(minutes=3)
    async with sessions() as session, session.begin():
        second = await queue_continuation(
            session, OPTIONS, outbox_id=await an_agent_reply(sessions, world, "Two"), now=T0
        )
        assert second is not None and second.id != first.id
        assert (second.in_reply_to, second.references) == (first.message_id, first.message_id)


async def test_seen_replies_are_not_mailed(sessions):
    world = await a_conversation(sessions)
    reply = await an_agent_reply(sessions, world, "Here you go.")
    async with sessions() as session, session.begin():
        await queue_continuation(session, OPTIONS, outbox_id=reply, now=T0)
        assert await replies_seen(session, world.conversation_id, T0) == 1
    async with sessions() as session:
        [state] = await mails_of_conversation(session, world.conversation_id)
        assert (state.state, state.error) == ("cancelled", "seen in the chat")


async def test_no_mail_without_consent_or_after_it_is_withdrawn(sessions):
    silent = await a_conversation(sessions, email=None)
    world = await a_conversation(sessions)
    async with sessions() as session, session.begin():
        reply = await an_agent_reply(sessions, silent, "Hello")
        assert await queue_continuation(session, OPTIONS, outbox_id=reply, now=T0) is None
        queued = await queue_continuation(
            session, OPTIONS, outbox_id=await an_agent_reply(sessions, world, "Hi"), now=T0
        )
        assert queued is not None
        assert await withdraw_consent(session, world.customer_id, T0)
    async with sessions() as session:
        [state] = await mails_of_conversation(session, world.conversation_id)
        assert state.state == "cancelled"
        reply = await an_agent_reply(sessions, world, "Again")
        assert await queue_continuation(session, OPTIONS, outbox_id=reply, now=T0) is None


async def test_chinese_customers_get_a_chinese_mail(sessions):
    world = await a_conversation(sessions, language="zh", question="我的订单到哪了？")
    reply = await an_agent_reply(sessions, world, "今天发货。", agent="小王")
    async with sessions() as session, session.begin():
        mail = await queue_continuation(session, OPTIONS, outbox_id=reply, now=T0)
        assert mail is not None
        assert mail.subject == "Example Shop回复了您的消息"
        assert "小王:\n  今天发货。" in mail.text_body and "我的订单到哪了？" in mail.text_body


async def test_deleting_the_customer_deletes_their_mail_data(sessions):

    world = await a_conversation(sessions, email="marker.9f3@example.com")
    reply = await an_agent_reply(sessions, world, "Hello")
    raw = samples.gmail_english()
    async with sessions() as session, session.begin():
        await queue_continuation(session, OPTIONS, outbox_id=reply, now=T0)
        token = await thread_token(session, world.conversation_id, T0)
        mail = parse_mail(raw.replace(b"ann@example.com", b"marker.9f3@example.com"))
        await store_reply(
            session, token=token, mail=mail, key=mail.key(raw), size=1, envelope_sender=None, now=T0
        )
    async with sessions() as session, session.begin():
        await delete_customer(session, await session.get_one(Customer, world.customer_id), None)
    engine = session.bind
    assert await tables_containing(engine, "marker.9f3") == []
    assert await tables_containing(engine, token) == []


async def test_nothing_is_queued_while_mail_is_off(sessions):
    world = await a_conversation(sessions)
    reply = await an_agent_reply(sessions, world, "Hello")
    async with sessions() as session, session.begin():
        off = replace(OPTIONS, enabled=False)
        assert await queue_continuation(session, off, outbox_id=reply, now=T0) is None
        assert await mails_of_conversation(session, world.conversation_id) == []
