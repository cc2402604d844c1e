"""The receiver of customers' e-mailed answers, over real SMTP on loopback: stored once in the
conversation, forged tokens, oversized and unreadable mails refused, bounces noted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiosmtplib
import pytest
from sqlalchemy import func, select

from bot.domain.mail.threads import thread_token
from bot.settings.sections import MailSettings
from bot.store.models import Interaction, MailOutboxMessage, ReceivedMail
from bot.workers.mail_inbound import MailReceiver, ReplyHandler
from testkit.fake_smtp import free_port
from tests.bot.domain import mail_samples as samples
from tests.bot.domain.mail_world import T0, a_conversation

DOMAIN = "reply.shop.example"
MAX_BYTES = 50_000


@pytest.fixture()
async def receiver(sessions):
    settings = MailSettings(
        mail_inbound_port=free_port(), mail_reply_domain=DOMAIN, mail_max_bytes=MAX_BYTES
    )
    notices = []
    bounced = []
    handler = ReplyHandler(sessions, settings, notify=notices.append, on_bounce=bounced.append)
    server = MailReceiver(handler, "127.0.0.1", settings.mail_inbound_port, MAX_BYTES)
    await server.start()
    server.port = settings.mail_inbound_port
    server.notices, server.bounced = notices, bounced
    yield server
    await server.stop()


async def _address(sessions, world) -> str:
    async with sessions() as session, session.begin():
        return f"reply+{await thread_token(session, world.conversation_id, T0)}@{DOMAIN}"


def _to(raw: bytes, address: str) -> bytes:
    return raw.replace(samples.REPLY_TO.encode(), address.encode())


async def _send(port, raw: bytes, to: str, mail_from="ann@example.com", size: int | None = None):
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
        await smtp.mail(mail_from, options=[f"SIZE={size}"] if size else None)
        await smtp.rcpt(to)
        return await smtp.data(raw)


async def _customer_texts(sessions, world) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Interaction.channel, Interaction.text)
            .where(Interaction.conversation_id == world.conversation_id)
            .order_by(Interaction.id)
        )
        return [tuple(row) for row in rows]


async def test_a_reply_lands_in_its_conversation_once(sessions, receiver):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    raw = _to(samples.gmail_english(), address)
    answer = await _send(receiver.port, raw, address)
    assert answer.code == 250
    again = await _send(receiver.port, raw, address)  # the same mail, delivered twice
    assert again.code == 250 and "already received" in again.message
    texts = await _customer_texts(sessions, world)
    assert texts[-1] == ("email", "Thanks! The blue one, size M please.")
    assert len(texts) == 2
    [notice] = receiver.notices
    assert notice.sender_id == world.sender_id and notice.ticket_id == world.ticket_id
    assert notice.sender_matches


async def test_a_gbk_html_only_chinese_mail_is_stored_as_its_text(sessions, receiver):
    world = await a_conversation(sessions, email="wangwu@example.cn")
    address = await _address(sessions, world)
    raw = _to(samples.gbk_html_only(), address)
    assert (await _send(receiver.port, raw, address, mail_from="wangwu@example.cn")).code == 250
    assert (await _customer_texts(sessions, world))[-1] == (
        "email",
        "您好：\n\n订单 20261201 还没到，麻烦查一下&回复我。",
    )


@pytest.mark.parametrize(
    "recipient",
    [
        "reply+abcdefghijklmnopqrstuvwxyz234567@reply.shop.example",  # well formed, no such token
        "reply+forged@reply.shop.example",
        "support@reply.shop.example",
        "reply+abcdefghijklmnopqrstuvwxyz234567@elsewhere.example",
    ],
)
async def test_an_address_without_a_valid_token_is_refused_at_rcpt(sessions, receiver, recipient):
    await a_conversation(sessions)
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await _send(receiver.port, samples.gmail_english(), recipient)
    assert refused.value.code == 550
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReceivedMail)) == 0


async def test_oversized_mails_are_refused_by_size_and_by_data(sessions, receiver):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as by_size:
        await _send(receiver.port, b"x", address, size=MAX_BYTES + 1)
    assert by_size.value.code == 552
    big = _to(samples.gmail_english(), address) + (b"a" * 70 + b"\r\n") * (MAX_BYTES // 70)
    with pytest.raises(aiosmtplib.SMTPDataError) as by_data:
        await _send(receiver.port, big, address)
    assert by_data.value.code == 552
    assert len(await _customer_texts(sessions, world)) == 1


@pytest.mark.parametrize("sample", [samples.multipart_without_boundary, samples.only_an_image])
async def test_a_mail_without_readable_text_is_refused_and_nothing_stored(
    sessions, receiver, sample
):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await _send(receiver.port, _to(sample(), address), address)
    assert refused.value.code == 550
    assert len(await _customer_texts(sessions, world)) == 1


async def test_another_sender_is_stored_but_flagged(sessions, receiver):
    world = await a_conversation(sessions, email="someone.else@example.org")
    address = await _address(sessions, world)
    raw = _to(samples.outlook_english(), address)
    assert (await _send(receiver.port, raw, address, mail_from="bob@example.com")).code == 250
    async with sessions() as session:
        received = await session.scalar(select(ReceivedMail))
    assert received.sender == "bob@example.com" and received.sender_matches is False
    assert receiver.notices[-1].sender_matches is False


async def test_automatic_answers_are_accepted_and_dropped(sessions, receiver):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    answer = await _send(receiver.port, _to(samples.out_of_office(), address), address)
    assert answer.code == 250 and len(await _customer_texts(sessions, world)) == 1


async def test_a_bounce_marks_the_last_mail_failed(sessions, receiver):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    async with sessions() as session, session.begin():
        session.add(
            MailOutboxMessage(
                conversation_id=world.conversation_id,
                ticket_id=world.ticket_id,
                recipient="ann@example.com",
                subject="s",
                text_body="t",
                html_body="h",
                language="en",
                message_id="m1@reply.shop.example",
                outbox_ids=[],
                created_at=T0,
                attempts=1,
                next_attempt_at=T0,
                claimed_at=T0,
                sent_at=datetime.now(UTC),
            )
        )
    answer = await _send(receiver.port, _to(samples.bounce(), address), address, mail_from="")
    assert answer.code == 250
    async with sessions() as session:
        mail = await session.scalar(select(MailOutboxMessage))
    assert mail.failed_at is not None and "user unknown" in mail.last_error
    assert receiver.bounced == [world.ticket_id]
    assert len(await _customer_texts(sessions, world)) == 1


async def test_one_recipient_per_mail(sessions, receiver):
    first, second = await a_conversation(sessions), await a_conversation(sessions)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=receiver.port, start_tls=False) as smtp:
        await smtp.mail("ann@example.com")
        await smtp.rcpt(await _address(sessions, first))
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await smtp.rcpt(await _address(sessions, second))
    assert refused.value.code == 452


async def test_two_deliveries_at_once_store_it_once(sessions, receiver):
    world = await a_conversation(sessions)
    address = await _address(sessions, world)
    raw = _to(samples.qq_mail(), address)
    answers = await asyncio.gather(*(_send(receiver.port, raw, address) for _ in range(3)))
    assert [answer.code for answer in answers] == [250, 250, 250]
    assert await _customer_texts(sessions, world) == [
        ("socketio", "Hi?"),
        ("email", "能改地址吗？改成上海市浦东新区。"),
    ]


async def test_an_internationalised_sender_is_heard(sessions, receiver):
    world = await a_conversation(sessions, email="li@example.cn")
    address = await _address(sessions, world)
    raw = _to(samples.gmail_chinese(), address)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=receiver.port, start_tls=False) as smtp:
        await smtp.mail("张三@例子.中国", options=["SMTPUTF8"], encoding="utf-8")
        await smtp.rcpt(address)
        assert (await smtp.data(raw)).code == 250
    assert (await _customer_texts(sessions, world))[-1] == ("email", "好的，我要蓝色的，谢谢！")
