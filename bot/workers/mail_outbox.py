"""Send the continuation mails (:mod:`bot.domain.mail.continuation`) through the shop's SMTP
server with ``aiosmtplib``: STARTTLS, TLS or none, with a login when SMTP_USERNAME is set.

Never sent twice: a mail is *claimed* (``claimed_at``, with the attempt counted) in its own
committed transaction before the SMTP transaction starts, by an UPDATE that only matches an
unclaimed row, so two workers never both send it, and a crash after the server accepted it
cannot lead to a second send. What follows from the server's answer:

- accepted (250 after DATA): ``sent_at``; the envelope sender is the conversation's reply
  address, so that a later bounce reaches the receiver, which marks the mail failed;
- a temporary refusal (4xx) or a failure before DATA (refused connection, timeout, lost
  connection, a refused login, which the operator can fix): the claim is released and the
  mail retried after a growing delay (:func:`retry_delay`), at most :data:`MAX_ATTEMPTS` times;
- a permanent refusal (5xx): ``failed_at`` with the server's answer, shown on the ticket;
- the connection lost during DATA, or a claim older than :data:`CLAIM_LEASE` (the worker died
  while sending): the server may have accepted the mail, so it is not sent again: ``failed_at``
  with "outcome unknown", for the agent to see and decide. At most once, by choice: a reply
  the customer gets twice looks broken, one they do not get is shown as failed to the agent.

>>> worker = MailOutbox(sessions, settings.mail, on_failed=notify)  # doctest: +SKIP
>>> task = asyncio.create_task(worker.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.mail.addresses import reply_address
from bot.domain.mail.continuation import pending
from bot.domain.mail.outbound import ComposedMail, to_message
from bot.settings.sections import MailSettings
from bot.store.models import MailOutboxMessage, MailThread

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
MAX_DELAY = timedelta(hours=1)
UNKNOWN = "the connection was lost while sending: it may have been delivered, so it is not resent"


@dataclass(frozen=True)
class Outcome:
    """What became of one SMTP transaction: ``sent``, ``retry`` or ``failed``, and why."""

    kind: str
    error: str | None = None


def retry_delay(attempts: int, base: timedelta = timedelta(seconds=30)) -> timedelta:
    """``base``, then twice as long after each further failure, up to :data:`MAX_DELAY`."""
    return min(base * (1 << min(max(0, attempts - 1), 20)), MAX_DELAY)


def _answer(exc: aiosmtplib.SMTPResponseException) -> Outcome:
    error = f"{exc.code} {exc.message}"[:500]
    return Outcome("failed" if 500 <= exc.code < 600 else "retry", error)


class MailOutbox:
    """The mail worker of the web service: :meth:`run` until :meth:`stop`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: MailSettings,
        *,
        interval: float = 1.0,
        batch: int = 20,
        timeout: float = 30.0,
        retry_base: timedelta = timedelta(seconds=30),
        tls_context: ssl.SSLContext | None = None,
        on_failed: Callable[[int | None], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._interval = interval
        self._batch = batch
        self._timeout = timeout
        self._retry_base = retry_base
        self._tls_context = tls_context
        self._on_failed = on_failed  # called with the ticket id of a mail that failed
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.send_once()
            except Exception:  # the database away: logged, tried again at the next pass
                log.exception("mail outbox pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)

    async def send_once(self) -> int:
        """Give up stale claims, then send the due mails; how many were sent."""
        await self._expire_claims()
        sent = 0
        for mail_id in await self._due():
            if not await self._claim(mail_id):
                continue  # another worker has it
            try:
                message = await self._message(mail_id)
            except (ValueError, TypeError, LookupError) as exc:  # headers refuse the address
                outcome = Outcome("failed", f"cannot compose the mail: {exc}"[:500])
            else:
                outcome = await self._transmit(message, parseaddr(str(message["Reply-To"]))[1])
            kind, ticket_id = await self._record(mail_id, outcome)
            if kind == "failed" and self._on_failed:
                self._on_failed(ticket_id)
            sent += kind == "sent"
        self.sent += sent
        return sent

    async def _due(self) -> list[int]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MailOutboxMessage.id)
                .where(*pending(), MailOutboxMessage.next_attempt_at <= datetime.now(UTC))
                .order_by(MailOutboxMessage.next_attempt_at, MailOutboxMessage.id)
                .limit(self._batch)
            )
            return list(rows)

    async def _claim(self, mail_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(MailOutboxMessage)
                .where(MailOutboxMessage.id == mail_id, *pending())
                .values(claimed_at=datetime.now(UTC), attempts=MailOutboxMessage.attempts + 1)
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    async def _expire_claims(self) -> None:
        stale = datetime.now(UTC) - CLAIM_LEASE
        async with self._sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(MailOutboxMessage).where(
                        MailOutboxMessage.claimed_at < stale,
                        MailOutboxMessage.sent_at.is_(None),
                        MailOutboxMessage.failed_at.is_(None),
                    )
                )
            ).all()
            for row in rows:
                row.failed_at, row.last_error = datetime.now(UTC), UNKNOWN
        for row in rows:
            log.warning("mail %s: %s", row.id, UNKNOWN)
            if self._on_failed:
                self._on_failed(row.ticket_id)

    async def _message(self, mail_id: int) -> EmailMessage:
        settings = self._settings
        async with self._sessions() as session:
            mail = await session.get_one(MailOutboxMessage, mail_id)
            token = await session.scalar(
                select(MailThread.token).where(MailThread.conversation_id == mail.conversation_id)
            )
        message = to_message(
            ComposedMail(mail.subject, mail.text_body, mail.html_body),
            sender=settings.mail_from,
            sender_name=settings.shop_name,
            recipient=mail.recipient,
            reply_to=reply_address(token or "", settings.reply_domain),
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
            references=(mail.references or "").split(),
        )
        return message

    def _client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.port,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=self._timeout,
            tls_context=self._tls_context,
        )

    async def _transmit(self, message: EmailMessage, sender: str) -> Outcome:
        """One SMTP transaction from the envelope ``sender``; which step failed decides whether
        it may be retried."""
        smtp = self._client()
        recipient = parseaddr(str(message["To"]))[1]
        try:
            try:
                await smtp.connect()
                await smtp.mail(sender)
                await smtp.rcpt(recipient)
            except aiosmtplib.SMTPAuthenticationError as exc:
                log.error("the SMTP server refused our login: %s %s", exc.code, exc.message)
                return Outcome("retry", f"login refused: {exc.code} {exc.message}"[:500])
            except aiosmtplib.SMTPResponseException as exc:
                return _answer(exc)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return Outcome("retry", f"{type(exc).__name__}: {exc}"[:500])
            try:
                await smtp.data(message.as_bytes())
            except aiosmtplib.SMTPResponseException as exc:
                return _answer(exc)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                return Outcome("failed", UNKNOWN)
            return Outcome("sent")
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                if smtp.is_connected:
                    await smtp.quit()
            smtp.close()

    async def _record(self, mail_id: int, outcome: Outcome) -> tuple[str, int | None]:
        """Store the outcome: "sent", "retry", or "failed" (also when the retries are used
        up); and the mail's ticket."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            mail = await session.get_one(MailOutboxMessage, mail_id)
            mail.last_error = outcome.error
            if outcome.kind == "sent":
                mail.sent_at = now
                return "sent", mail.ticket_id
            if outcome.kind == "retry" and mail.attempts < MAX_ATTEMPTS:
                mail.claimed_at = None
                mail.next_attempt_at = now + retry_delay(mail.attempts, self._retry_base)
                log.warning("mail %s to be retried: %s", mail_id, outcome.error)
                return "retry", mail.ticket_id
            mail.failed_at = now
            log.warning("mail %s failed: %s", mail_id, outcome.error)
            return "failed", mail.ticket_id
