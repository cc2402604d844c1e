"""The receiver of customers' e-mailed answers: an SMTP server (``aiosmtpd``) on
MAIL_INBOUND_PORT, to which the shop's mail server forwards the reply domain.

What each step of an SMTP transaction decides:

- MAIL FROM with a ``SIZE`` above MAIL_MAX_BYTES: 552 (aiosmtpd, which also advertises SIZE);
- RCPT TO an address without a token of a conversation (another domain, a forged or unknown
  token): 550, and nothing is read; one recipient per mail (a second one: 452);
- DATA beyond MAIL_MAX_BYTES: 552; a mail without readable text (broken MIME): 550 5.6.0;
- an automatic answer (out of office, ``Auto-Submitted``): 250, stored nowhere;
- a bounce of one of our mails (a delivery status notification to the reply address): 250,
  the conversation's last mail is marked failed (:func:`bot.domain.mail.replies.record_bounce`);
- otherwise the answer is stored once as a customer message of the conversation
  (:func:`bot.domain.mail.replies.store_reply`, whose docstring says what a sender other than
  the customer's address means) and ``notify`` tells the console; a second delivery of the same
  mail: 250, nothing stored. A database failure: 451, and the sending server tries again.

>>> receiver = MailReceiver(ReplyHandler(sessions, settings.mail, notify=publish),
...     "127.0.0.1", 2525, settings.mail.mail_max_bytes)  # doctest: +SKIP
>>> await receiver.start()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.mail.addresses import token_of
from bot.domain.mail.inbound import MalformedMail, ParsedMail, parse_mail
from bot.domain.mail.replies import StoredReply, UnknownToken, record_bounce, store_reply
from bot.domain.mail.threads import conversation_of_token
from bot.settings.sections import MailSettings

log = logging.getLogger(__name__)

NO_SUCH_USER = "550 5.1.1 No such recipient here"
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"


class ReplyHandler:
    """aiosmtpd's handler: the checks at RCPT and DATA, and the storing."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: MailSettings,
        *,
        redact_pii: bool = False,
        notify: Callable[[StoredReply], None] | None = None,
        on_bounce: Callable[[int | None], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._domain = settings.reply_domain
        self._max_bytes = settings.mail_max_bytes
        self._redact_pii = redact_pii
        self._notify = notify
        self._on_bounce = on_bounce  # called with the ticket id of a mail that bounced
        self.stored = 0

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        token = token_of(address, self._domain)
        if token is None:
            return NO_SUCH_USER
        if envelope.rcpt_tos:
            return "452 4.5.3 One recipient per mail, please"
        try:
            async with self._sessions() as db:
                known = await conversation_of_token(db, token) is not None
        except Exception:  # the database away: the sender retries
            log.exception("mail receiver: cannot look the token up")
            return TRY_LATER
        if not known:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self._max_bytes:
            return "552 5.3.4 Message too big"
        token = token_of(envelope.rcpt_tos[0], self._domain) if envelope.rcpt_tos else None
        if token is None:
            return "503 5.5.1 No valid recipient"
        try:
            mail = await asyncio.to_thread(parse_mail, raw)
        except MalformedMail as exc:
            log.info("mail receiver: refused an unreadable mail: %s", exc)
            return f"550 5.6.0 Unreadable mail: {exc}"
        if mail.auto_submitted and not mail.bounce:
            log.info("mail receiver: ignored an automatic answer to %s", token[:6])
            return "250 2.0.0 OK (automatic answer, not stored)"
        try:
            return await self._store(token, mail, raw, envelope.mail_from)
        except UnknownToken:
            return NO_SUCH_USER
        except Exception:
            log.exception("mail receiver: cannot store a reply")
            return TRY_LATER

    async def _store(self, token: str, mail: ParsedMail, raw: bytes, sender: Any) -> str:
        now = datetime.now(UTC)
        if mail.bounce:
            async with self._sessions() as db, db.begin():
                ticket_id = await record_bounce(db, token=token, reason=mail.text, now=now)
            if self._on_bounce:
                self._on_bounce(ticket_id)
            return "250 2.0.0 OK (bounce noted)"
        async with self._sessions() as db, db.begin():
            stored = await store_reply(
                db,
                token=token,
                mail=mail,
                key=mail.key(raw),
                size=len(raw),
                envelope_sender=sender if isinstance(sender, str) else None,
                now=now,
                redact_pii=self._redact_pii,
            )
        if stored is None:
            return "250 2.0.0 OK (already received)"
        self.stored += 1
        if self._notify:
            self._notify(stored)
        return "250 2.0.0 OK"


class MailReceiver:
    """The SMTP server, in the running event loop (the web service's)."""

    def __init__(self, handler: ReplyHandler, host: str, port: int, max_bytes: int) -> None:
        self._handler = handler
        self._host, self._port, self._max_bytes = host, port, max_bytes
        self._server: asyncio.Server | None = None

    def _protocol(self) -> SMTP:
        return SMTP(
            self._handler,
            data_size_limit=self._max_bytes,
            enable_SMTPUTF8=True,  # senders with internationalised addresses
            hostname=self._host,
            ident="shop-assistant mail receiver",
            timeout=60,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self._host, self._port)
        log.info("mail receiver listening on %s:%s", self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
