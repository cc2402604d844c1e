"""The ticket page shows the conversation's mails and flags an e-mailed answer from an address
other than the one the customer gave."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.mail.continuation import MailOptions, queue_continuation
from bot.domain.mail.inbound import parse_mail
from bot.domain.mail.replies import store_reply
from bot.domain.mail.threads import thread_token
from bot.store.models import MailOutboxMessage
from tests.bot.domain import mail_samples as samples
from tests.bot.domain.mail_world import T0, a_conversation, an_agent_reply
from tests.bot.web.test_console_pages import sign_in_form

OPTIONS = MailOptions(
    sender="Shop <support@shop.example>", reply_domain="reply.shop.example", delay=timedelta(0)
)


async def test_the_ticket_shows_its_mails_and_a_stranger_answering(client, sessions):
    world = await a_conversation(sessions, email="ann.lee@example.com")
    failed_reply = await an_agent_reply(sessions, world, "Blue or red?")
    async with sessions() as session, session.begin():
        mail = await queue_continuation(session, OPTIONS, outbox_id=failed_reply, now=T0)
        assert mail is not None
        mail.failed_at, mail.last_error = T0, "550 5.1.1 mailbox unavailable"
        session.add(mail)
    waiting_reply = await an_agent_reply(sessions, world, "Are you there?", minutes=5)
    raw = samples.gmail_english()  # from ann@example.com, not the address she gave
    parsed = parse_mail(raw)
    async with sessions() as session, session.begin():
        await queue_continuation(session, OPTIONS, outbox_id=waiting_reply, now=T0)
        token = await thread_token(session, world.conversation_id, T0)
        await store_reply(
            session,
            token=token,
            mail=parsed,
            key=parsed.key(raw),
            size=len(raw),
            envelope_sender="ann@example.com",
            now=T0 + timedelta(minutes=9),
        )
        assert len((await session.scalars(MailOutboxMessage.__table__.select())).all()) == 2
    await sign_in_form(client)
    html = await (await client.get(f"/console/tickets/{world.ticket_id}")).text()
    assert html.count("E-mail to ann.lee@example.com") == 2
    assert 'not delivered</span> — <span lang="">550 5.1.1 mailbox unavailable' in html
    assert "waits: sent unless the customer sees the reply in the chat" in html
    assert "Thanks! The blue one, size M please." in html and "by e-mail" in html
    assert "Sent from ann@example.com, not the address the customer gave" in html

    response = await client.get(f"/api/tickets/{world.ticket_id}")
    detail = await response.json()
    assert [m["state"] for m in detail["mails"]] == ["failed", "waiting"]
    [mailed] = [m for m in detail["transcript"] if m["mail"]]
    assert mailed["mail"] == {"sender": "ann@example.com", "sender_matches": False}
