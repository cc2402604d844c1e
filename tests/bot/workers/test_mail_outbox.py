"""The mail worker against a real SMTP server on loopback: sent once, retried on temporary
refusals, failed on permanent ones, never sent twice (two workers, a lost connection, a crash)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.domain.mail.continuation import MailOptions, mails_of_conversation, queue_continuation
from bot.settings.sections import MailSettings
from bot.store.models import MailOutboxMessage, MailThread
from bot.workers.mail_outbox import CLAIM_LEASE, MAX_ATTEMPTS, UNKNOWN, MailOutbox
from testkit.fake_smtp import FakeSmtp, free_port, self_signed
from tests.bot.domain.mail_world import a_conversation, an_agent_reply


def _settings(port: int, **more) -> MailSettings:
    values = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": "Example Shop <support@shop.example>",
        "mail_reply_domain": "reply.shop.example",
        "email_continuity_delay": 0,
        "shop_name": "Example Shop",
        **more,
    }
    return MailSettings(**values)


@pytest.fixture()
async def smtp():
    server = FakeSmtp(port=free_port())
    await server.start()
    yield server
    await server.stop()


async def _queued(sessions, settings: MailSettings, text="It ships today."):
    world = await a_conversation(sessions)
    reply = await an_agent_reply(sessions, world, text)
    async with sessions() as session, session.begin():
        mail = await queue_continuation(
            session, MailOptions.from_settings(settings), outbox_id=reply, now=datetime.now(UTC)
        )
    assert mail is not None
    return world, mail.id


async def _row(sessions, mail_id: int) -> MailOutboxMessage:
    async with sessions() as session:
        return await session.get_one(MailOutboxMessage, mail_id)


async def _make_due(sessions, mail_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(MailOutboxMessage)
            .where(MailOutboxMessage.id == mail_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_a_due_mail_is_sent_once_threaded_from_the_reply_address(sessions, smtp):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    worker = MailOutbox(sessions, settings)
    assert await worker.send_once() == 1
    assert await worker.send_once() == 0
    [received] = smtp.received
    async with sessions() as session:
        token = await session.scalar(select(MailThread.token))
    reply_to = f"reply+{token}@reply.shop.example"
    assert received.mail_from == reply_to  # bounces come back to the receiver
    assert received.rcpt_tos == ["ann@example.com"]
    message = received.message
    assert message["Reply-To"] == reply_to
    row = await _row(sessions, mail_id)
    assert message["Message-ID"] == f"<{row.message_id}>"
    assert "It ships today." in message.get_body(("plain",)).get_content()
    assert row.sent_at is not None and row.attempts == 1


async def test_a_mail_not_yet_due_waits(sessions, smtp):
    settings = _settings(smtp.port, email_continuity_delay=600)
    await _queued(sessions, settings)
    assert await MailOutbox(sessions, settings).send_once() == 0
    assert smtp.received == []


async def test_a_temporary_refusal_is_retried_later(sessions, smtp):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    smtp.rcpt_answers.append("451 4.3.0 greylisted, try again later")
    worker = MailOutbox(sessions, settings)
    assert await worker.send_once() == 0
    row = await _row(sessions, mail_id)
    assert row.claimed_at is None and row.sent_at is None and row.failed_at is None
    assert row.last_error.startswith("451") and row.next_attempt_at > datetime.now(UTC)
    await _make_due(sessions, mail_id)
    assert await worker.send_once() == 1
    assert len(smtp.received) == 1 and (await _row(sessions, mail_id)).attempts == 2


async def test_a_permanent_refusal_fails_the_mail_and_tells_the_ticket(sessions, smtp):
    settings = _settings(smtp.port)
    world, _ = await _queued(sessions, settings)
    smtp.rcpt_answers.append("550 5.1.1 <ann@example.com>: mailbox unknown")
    failed: list[int | None] = []
    assert await MailOutbox(sessions, settings, on_failed=failed.append).send_once() == 0
    assert failed == [world.ticket_id]
    async with sessions() as session:
        [state] = await mails_of_conversation(session, world.conversation_id)
    assert state.state == "failed" and "550 5.1.1" in state.error


async def test_no_server_is_a_temporary_failure(sessions):
    settings = _settings(free_port())
    _, mail_id = await _queued(sessions, settings)
    assert await MailOutbox(sessions, settings, timeout=5).send_once() == 0
    row = await _row(sessions, mail_id)
    assert row.failed_at is None and row.claimed_at is None and row.last_error


async def test_retries_end_after_the_last_attempt(sessions, smtp):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    worker = MailOutbox(sessions, settings)
    for _ in range(MAX_ATTEMPTS):
        smtp.rcpt_answers.append("421 4.7.0 try later")
        await _make_due(sessions, mail_id)
        await worker.send_once()
    row = await _row(sessions, mail_id)
    assert row.failed_at is not None and row.attempts == MAX_ATTEMPTS and smtp.received == []


async def test_a_connection_lost_during_data_is_never_resent(sessions, smtp):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    smtp.drop_during_data = 1
    worker = MailOutbox(sessions, settings)
    await worker.send_once()
    await _make_due(sessions, mail_id)
    await worker.send_once()
    row = await _row(sessions, mail_id)
    assert len(smtp.received) == 1  # the server has it; we could not know
    assert row.failed_at is not None and row.last_error == UNKNOWN


async def test_a_crash_while_sending_leaves_it_failed_not_resent(sessions, smtp):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    async with sessions() as session, session.begin():  # a worker claimed it, then died
        await session.execute(
            update(MailOutboxMessage)
            .where(MailOutboxMessage.id == mail_id)
            .values(claimed_at=datetime.now(UTC) - CLAIM_LEASE - timedelta(seconds=1))
        )
    assert await MailOutbox(sessions, settings).send_once() == 0
    assert smtp.received == []
    assert (await _row(sessions, mail_id)).last_error == UNKNOWN


async def test_two_workers_send_each_mail_once(sessions, smtp):
    settings = _settings(smtp.port)
    for text in ("one", "two", "three"):
        await _queued(sessions, settings, text)
    workers = [MailOutbox(sessions, settings) for _ in range(2)]
    await asyncio.gather(*(worker.send_once() for worker in workers))
    assert len(smtp.received) == 3
    assert sum(worker.sent for worker in workers) == 3


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_and_login(sessions, security):
    server_tls, client_tls = self_signed()
    smtp = FakeSmtp(
        port=free_port(), tls=server_tls, starttls=security == "starttls", login=("shop", "s3cret")
    )
    await smtp.start()
    try:
        settings = _settings(
            smtp.port, smtp_security=security, smtp_username="shop", smtp_password="s3cret"
        )
        await _queued(sessions, settings)
        assert await MailOutbox(sessions, settings, tls_context=client_tls).send_once() == 1
        wrong = MailSettings(**{**settings.model_dump(), "smtp_password": "wrong"})
        _, mail_id = await _queued(sessions, wrong)
        refused = MailOutbox(sessions, wrong, tls_context=client_tls, timeout=5)
        assert await refused.send_once() == 0
        row = await _row(sessions, mail_id)  # the operator can fix the password: retried
        assert row.last_error and row.failed_at is None and row.claimed_at is None
    finally:
        await smtp.stop()
    assert len(smtp.received) == 1


@pytest.mark.parametrize("recipient", ["", "ann@example.com\r\nBcc: victim@example.org"])
async def test_a_broken_recipient_never_reaches_anyone_else(sessions, smtp, recipient):
    settings = _settings(smtp.port)
    _, mail_id = await _queued(sessions, settings)
    async with sessions() as session, session.begin():
        await session.execute(
            update(MailOutboxMessage)
            .where(MailOutboxMessage.id == mail_id)
            .values(recipient=recipient)
        )
    await MailOutbox(sessions, settings).send_once()
    row = await _row(sessions, mail_id)
    assert all("victim" not in " ".join(got.rcpt_tos) for got in smtp.received)
    assert all(b"victim" not in got.raw for got in smtp.received)
    assert row.sent_at is not None or row.failed_at is not None
