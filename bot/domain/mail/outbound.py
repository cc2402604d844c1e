"""The continuation mail: the conversation's recent messages, in the customer's language, as
plain text and HTML (every customer and agent text escaped), threaded with Message-ID,
In-Reply-To and References so that the customer's mail client shows one thread.

>>> from datetime import datetime, UTC
>>> at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
>>> mail = compose(Continuation(
...     shop_name="Example Shop", language="en", chat_url="https://shop.example/help",
...     lines=(Line("customer", None, "Where is <my> order?", at),
...            Line("agent", "Ann", "It ships today.", at))))
>>> mail.subject
'Example Shop replied to your message'
>>> "&lt;my&gt;" in mail.html and "<my>" not in mail.html
True
>>> message = to_message(mail, sender="support@shop.example", recipient="ann@example.com",
...     reply_to="reply+abc@reply.shop.example", message_id="m2@shop.example",
...     in_reply_to="m1@example.com", references=("m0@shop.example", "m1@example.com"))
>>> message["In-Reply-To"], message["References"]
('<m1@example.com>', '<m0@shop.example> <m1@example.com>')
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from html import escape
from urllib.parse import urlsplit

from bot.domain.mail.texts import MailTexts, texts_for


@dataclass(frozen=True)
class Line:
    """One message of the conversation: ``direction`` is "customer", "bot" or "agent"."""

    direction: str
    author: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class Continuation:
    """What the mail says: the shop, the customer's language, the recent messages and the link
    back to the chat (empty: none)."""

    shop_name: str
    language: str
    lines: Sequence[Line]
    chat_url: str = ""


@dataclass(frozen=True)
class ComposedMail:
    subject: str
    text: str
    html: str


def new_message_id(domain: str) -> str:
    """A fresh Message-ID of ``domain``, without the angle brackets."""
    return f"{secrets.token_hex(16)}@{domain.lower() or 'localhost'}"


def safe_link(url: str) -> str:
    """``url`` when it is an http(s) address, else empty (never a ``javascript:`` link).

    >>> safe_link("https://shop.example/help"), safe_link("javascript:alert(1)")
    ('https://shop.example/help', '')
    """
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def _speaker(line: Line, texts: MailTexts) -> str:
    if line.direction == "customer":
        return texts.you
    if line.direction == "agent":
        return line.author or texts.agent
    return texts.assistant


def compose(continuation: Continuation) -> ComposedMail:
    """The subject and both bodies of the mail."""
    texts = texts_for(continuation.language)
    shop = continuation.shop_name.strip() or texts.default_shop
    link = safe_link(continuation.chat_url)
    plain = [texts.greeting, "", texts.intro.format(shop=shop), ""]
    items = []
    for line in continuation.lines:
        speaker = _speaker(line, texts)
        plain.append(f"{speaker}:")
        plain.extend(f"  {row}" for row in line.text.splitlines() or [""])
        plain.append("")
        body = escape(line.text).replace("\n", "<br>")
        items.append(
            f'<tr><td style="padding:6px 0"><strong>{escape(speaker)}</strong><br>{body}</td></tr>'
        )
    plain.append(texts.reply_hint)
    outro = f"<p>{escape(texts.reply_hint)}</p>"
    if link:
        plain.append(texts.link_hint.format(url=link))
        outro += f'<p><a href="{escape(link, quote=True)}">{escape(texts.link_label)}</a></p>'
    plain += ["", shop]
    html = (
        f'<!DOCTYPE html><html lang="{escape(texts.html_lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(texts.subject.format(shop=shop))}</title></head><body>"
        f"<p>{escape(texts.greeting)}</p><p>{escape(texts.intro.format(shop=shop))}</p>"
        f'<table role="presentation">{"".join(items)}</table>{outro}'
        f"<p>{escape(shop)}</p></body></html>"
    )
    return ComposedMail(texts.subject.format(shop=shop), "\n".join(plain) + "\n", html)


def _mailbox(value: str, display_name: str = "") -> Address:
    name, address = parseaddr(value)
    username, _, domain = address.rpartition("@")
    return Address(display_name=name or display_name, username=username, domain=domain)


def to_message(
    mail: ComposedMail,
    *,
    sender: str,
    recipient: str,
    reply_to: str,
    message_id: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    sender_name: str = "",
    date: datetime | None = None,
) -> EmailMessage:
    """The MIME message (multipart/alternative: text, then HTML) with its threading headers.

    Args:
        mail: what :func:`compose` made.
        sender: MAIL_FROM, an address with or without a display name.
        recipient: the customer's address.
        reply_to: the conversation's reply address (:func:`.addresses.reply_address`).
        message_id, in_reply_to, references: Message-IDs without angle brackets.
        sender_name: the display name when ``sender`` has none (the shop's name).
        date: the Date header; None: now.

    Returns:
        The message, ready for SMTP.
    """
    message = EmailMessage()
    message["From"] = _mailbox(sender, sender_name)
    message["To"] = _mailbox(recipient)
    message["Reply-To"] = _mailbox(reply_to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{ref}>" for ref in references)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message
