"""E-mail continuity end to end, with the real web service as a process on loopback: an
``aiosmtpd`` stands in for the shop's SMTP server and receives the agent's reply (sent from the
console's API, e-mailed once it stayed unseen for EMAIL_CONTINUITY_DELAY) by e-mail; the
customer's answer to it, sent over SMTP to the web service's receiver, lands in the conversation
and shows live in the console; a second delivery does not double it; a forged token, an
oversized mail, a malformed MIME message and an HTML-only Chinese mail in GBK each do the right
thing."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import aiohttp
import aiosmtplib
import pytest
from sqlalchemy import select

from bot.domain.mail.continuation import MailOptions, queue_continuation
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import Interaction
from testkit.agents import add_agent, unique_username
from testkit.fake_smtp import FakeSmtp, Received, free_port
from tests.bot.domain import mail_samples as samples
from tests.bot.domain.mail_world import a_conversation, an_agent_reply
from tests.integration.conftest import copy_faq_index, lone_web_service

PASSWORD = "a long enough passphrase"
DOMAIN = "reply.shop.example"
MAX_BYTES = 100_000


# The module's ports: TEST_MAIL_PORT (default 18400) and the 99 after it.
BASE_PORT = int(os.environ.get("TEST_MAIL_PORT", "18400"))


@pytest.fixture(scope="module")
def shop_smtp_port() -> int:
    # Each port from its own part of the range: this one is bound only while a test runs.
    return free_port(range(BASE_PORT, BASE_PORT + 20))


@pytest.fixture(scope="module")
def web(tmp_path_factory, shop_smtp_port) -> Iterator[Settings]:
    """The web service alone, with both mail workers on; Rasa is never started."""
    work = tmp_path_factory.mktemp("mail")
    index_dir = copy_faq_index(work)
    # Apart: a Rasa range after the web port's was empty when the web port was the last one.
    web_port = free_port(range(BASE_PORT + 50, BASE_PORT + 75))
    settings = Settings(
        web_port=web_port,
        rasa_port=free_port(range(BASE_PORT + 75, BASE_PORT + 100)),  # never started
        rasa_api_token=uuid.uuid4().hex,
        run_dir=work / "run",
        database_url=f"sqlite:///{work / 'app.db'}",
        smtp_host="127.0.0.1",
        smtp_port=shop_smtp_port,
        smtp_security="none",
        mail_from="Example Shop <support@shop.example>",
        mail_reply_domain=DOMAIN,
        mail_inbound_port=free_port(range(BASE_PORT + 20, BASE_PORT + 50)),
        email_continuity_delay=1,  # an agent's reply waits a second for the "seen" signal
        shop_name="Example Shop",
        mail_chat_url="https://shop.example/help",
        mail_max_bytes=MAX_BYTES,
    )
    asyncio.run(upgrade(settings.database.database_url))
    with lone_web_service(settings, index_dir):
        yield settings


@pytest.fixture()
async def sessions(web: Settings) -> AsyncIterator:
    engine = create_engine(web.database.database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture()
async def shop_smtp(shop_smtp_port) -> AsyncIterator[FakeSmtp]:
    server = FakeSmtp(port=shop_smtp_port)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture()
async def agent_http(web: Settings) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """An admin signed in to the console's API: the HTTP session and its CSRF token."""
    username = await add_agent(
        web.database.database_url, unique_username("li"), "Li", PASSWORD, role="admin"
    )
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(web.servers.web_url, cookie_jar=jar) as http:
        token = (await (await http.get("/api/login")).json())["csrf_token"]
        signed_in = await http.post(
            "/api/login",
            json={"username": username, "password": PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        assert signed_in.status == 200, await signed_in.text()
        yield http, (await signed_in.json())["csrf_token"]


@pytest.fixture()
async def console_events(agent_http) -> AsyncIterator[asyncio.Queue]:
    """The live notices an open console page receives, as (kind, data)."""
    http, _ = agent_http
    notices: asyncio.Queue = asyncio.Queue()

    async def listen() -> None:
        async with http.get("/console/events") as stream:
            kind = None
            async for raw in stream.content:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    notices.put_nowait((kind, json.loads(line.removeprefix("data: "))))

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.5)
    yield notices
    task.cancel()


async def _mail_to(shop_smtp: FakeSmtp, recipient: str, timeout: float = 30) -> Received:
    for _ in range(int(timeout * 10)):
        for received in shop_smtp.received:
            if recipient in received.rcpt_tos:
                return received
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail to {recipient} reached the shop's SMTP server")


def _answer_to(mail: EmailMessage, text: str) -> bytes:
    """The customer's answer as Gmail shapes it: the new text, the attribution, the quote."""
    answer = EmailMessage()
    answer["From"] = "Ann <ann@example.com>"
    answer["To"] = mail["Reply-To"]
    answer["Subject"] = f"Re: {mail['Subject']}"
    answer["Message-ID"] = make_msgid(domain="mail.gmail.com")
    answer["In-Reply-To"] = mail["Message-ID"]
    answer["References"] = mail["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in mail.get_body(("plain",)).get_content().splitlines())
    answer.set_content(f"{text}\n\nOn Tue, Dec 1, 2026 at 9:00 AM Example Shop wrote:\n{quoted}\n")
    return answer.as_bytes()


async def _send(web: Settings, raw: bytes, to: str) -> aiosmtplib.SMTPResponse:
    port = web.mail.mail_inbound_port
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
        await smtp.mail("ann@example.com")
        await smtp.rcpt(to)
        return await smtp.data(raw)


async def _texts(sessions, conversation_id: int) -> list[str | None]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Interaction.text)
            .where(Interaction.conversation_id == conversation_id, Interaction.channel == "email")
            .order_by(Interaction.id)
        )
        return list(rows)


async def _notice_for(notices: asyncio.Queue, sender_id: str) -> None:
    while True:
        kind, data = await asyncio.wait_for(notices.get(), 15)
        if kind == "conversation" and data.get("conversation") == sender_id:
            return


async def test_an_agents_reply_goes_out_and_the_answer_comes_back_live(
    web, sessions, shop_smtp, console_events
):
    world = await a_conversation(sessions, question="Which colours does the jacket come in?")
    reply = await an_agent_reply(sessions, world, "Blue or <red>; which one would you like?")
    async with sessions() as session, session.begin():
        queued = await queue_continuation(
            session, MailOptions.from_settings(web.mail), outbox_id=reply, now=datetime.now(UTC)
        )
        assert queued is not None
    mail = (await _mail_to(shop_smtp, "ann@example.com")).message
    assert "Blue or <red>" in mail.get_body(("plain",)).get_content()
    assert "Blue or &lt;red&gt;" in mail.get_body(("html",)).get_content()
    assert "https://shop.example/help" in mail.get_body(("plain",)).get_content()

    raw = _answer_to(mail, "The blue one, please.")
    assert (await _send(web, raw, mail["Reply-To"])).code == 250
    await _notice_for(console_events, world.sender_id)
    assert await _texts(sessions, world.conversation_id) == ["The blue one, please."]

    again = await _send(web, raw, mail["Reply-To"])  # the mail server delivers it twice
    assert again.code == 250
    await asyncio.sleep(0.5)
    assert await _texts(sessions, world.conversation_id) == ["The blue one, please."]


async def test_hostile_and_unusual_mails_at_the_receiver(web, sessions, shop_smtp):
    world = await a_conversation(sessions)
    reply = await an_agent_reply(sessions, world, "Anything else?")
    async with sessions() as session, session.begin():
        await queue_continuation(
            session, MailOptions.from_settings(web.mail), outbox_id=reply, now=datetime.now(UTC)
        )
    address = str((await _mail_to(shop_smtp, "ann@example.com")).message["Reply-To"])
    forged = f"reply+{'a' * 32}@{DOMAIN}"

    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await _send(web, samples.gmail_english(), forged)
    assert refused.value.code == 550

    big = samples.gmail_english() + (b"x" * 70 + b"\r\n") * (MAX_BYTES // 70)
    with pytest.raises(aiosmtplib.SMTPDataError) as too_big:
        await _send(web, big.replace(samples.REPLY_TO.encode(), address.encode()), address)
    assert too_big.value.code == 552

    broken = samples.multipart_without_boundary().replace(
        samples.REPLY_TO.encode(), address.encode()
    )
    with pytest.raises(aiosmtplib.SMTPDataError) as unreadable:
        await _send(web, broken, address)
    assert unreadable.value.code == 550

    gbk = samples.gbk_html_only(f"gbk-{uuid.uuid4().hex}@example.cn")
    assert (
        await _send(web, gbk.replace(samples.REPLY_TO.encode(), address.encode()), address)
    ).code == 250
    assert await _texts(sessions, world.conversation_id) == [
        "您好：\n\n订单 20261201 还没到，麻烦查一下&回复我。"
    ]


async def test_a_reply_from_the_console_is_mailed_after_the_delay_and_answered(
    web, sessions, shop_smtp, agent_http
):
    http, csrf = agent_http
    world = await a_conversation(sessions, question="Do you ship to Norway?")
    replied = await http.post(
        f"/api/tickets/{world.ticket_id}/reply",
        json={"text": "Yes, within three days."},
        headers={"X-CSRF-Token": csrf},
    )
    assert replied.status == 200, await replied.text()
    assert [m["state"] for m in (await replied.json())["mails"]] == ["waiting"]

    mail = (await _mail_to(shop_smtp, "ann@example.com")).message
    text = mail.get_body(("plain",)).get_content()
    assert "Do you ship to Norway?" in text and "Yes, within three days." in text
    raw = _answer_to(mail, "Great, I will order today.")
    assert (await _send(web, raw, mail["Reply-To"])).code == 250

    detail = await (await http.get(f"/api/tickets/{world.ticket_id}")).json()
    assert [m["state"] for m in detail["mails"]] == ["sent"]
    answer = detail["transcript"][-1]
    assert (answer["direction"], answer["text"]) == ("customer", "Great, I will order today.")
    assert answer["mail"] == {"sender": "ann@example.com", "sender_matches": True}
