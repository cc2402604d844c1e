"""A received mail, read with the standard library's :mod:`email` (``policy.default``): who
sent it, what it answers, and the customer's new text.

The text is the first plain-text part, else the first HTML part turned into text
(:mod:`.html_text`); the quoted history and the signature are cut (:mod:`.quotes`). Charsets
are decoded leniently: GB2312 and GBK as GB18030 (their superset, which mail in the wild
needs), an unknown charset as UTF-8, undecodable bytes as U+FFFD. Attachments are noted (name,
type, size), never kept.

>>> raw = (b"From: Ann <ann@example.com>\\r\\nTo: reply+x@shop.example\\r\\n"
...        b"Subject: =?utf-8?b?5aW955qE?=\\r\\nMessage-ID: <m1@example.com>\\r\\n"
...        b"Content-Type: text/plain; charset=utf-8\\r\\n\\r\\nThe blue one.\\r\\n> old\\r\\n")
>>> mail = parse_mail(raw)
>>> mail.sender, mail.subject, mail.text, mail.message_id
('ann@example.com', '好的', 'The blue one.', 'm1@example.com')
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

from bot.domain.mail.addresses import sender_address
from bot.domain.mail.html_text import html_to_text
from bot.domain.mail.quotes import strip_quoted

MAX_TEXT_CHARS = 10_000
MAX_PARTS = 200
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")


class MalformedMail(ValueError):
    """The mail cannot be read: no readable text, or MIME too broken to find it."""


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMail:
    """What the receiver needs of a mail; ``text`` is the customer's new text only."""

    message_id: str | None  # without the angle brackets
    sender: str | None  # the From header's address, lower case
    subject: str
    text: str
    in_reply_to: str | None
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    auto_submitted: bool  # an out-of-office or other automatic answer (RFC 3834)
    bounce: bool = False  # a delivery status notification: one of our mails did not arrive

    def key(self, raw: bytes) -> str:
        """The digest that identifies this mail however often it is delivered: of its
        Message-ID, or of the whole mail when it has none."""
        basis = f"id:{self.message_id}".encode() if self.message_id else b"raw:" + raw
        return hashlib.sha256(basis).hexdigest()


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` of a Message-ID, In-Reply-To or References header, without brackets.

    >>> message_ids("<a@x> <b@y>")
    ('a@x', 'b@y')
    """
    return tuple(_MESSAGE_ID.findall(value or ""))


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # an undecodable header
        return None
    return None if value is None else str(value)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = (part.get_content_charset() or "utf-8").lower()
    try:
        return data.decode(CHARSET_ALIASES.get(charset, charset), errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or (
        part.get_filename() is not None and part.get_content_maintype() != "text"
    )


def _attachment(part: Message) -> Attachment:
    payload = part.get_payload(decode=True)
    name = _clean(part.get_filename() or "")[:200] or "(unnamed)"
    size = len(payload) if isinstance(payload, bytes) else 0
    return Attachment(name, part.get_content_type()[:100], size)


def _clean(text: str) -> str:
    """Without control characters other than newlines and tabs, nor lone surrogates."""
    return "".join(
        char
        for char in text.encode("utf-8", "replace").decode("utf-8")
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )


def _body(message: Message) -> tuple[str, list[Attachment]]:
    """The text of the first plain part (else of the first HTML part), and the attachments."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        if _is_attachment(part):
            attachments.append(_attachment(part))
        elif part.get_content_type() == "text/plain" and plain is None:
            plain = _decoded(part)
        elif part.get_content_type() == "text/html" and html is None:
            html = _decoded(part)
    if plain is not None and plain.strip():
        return plain, attachments
    return (html_to_text(html) if html else ""), attachments


def parse_mail(raw: bytes) -> ParsedMail:
    """Read a mail as received (the DATA of the SMTP transaction).

    Args:
        raw: the mail's bytes.

    Returns:
        Its identity, sender, threading headers, attachments and the customer's new text
        (at most :data:`MAX_TEXT_CHARS`).

    Raises:
        MalformedMail: not a mail (no From), or no readable text in it (the MIME structure
            broken, or nothing written).
    """
    try:
        message = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
        if message.get_content_maintype() == "multipart" and not message.is_multipart():
            raise MalformedMail("a multipart mail without parts (no boundary)")
        body, attachments = _body(message)
    except (ValueError, IndexError, TypeError, LookupError, AttributeError) as exc:
        if isinstance(exc, MalformedMail):
            raise
        raise MalformedMail(f"unreadable MIME: {type(exc).__name__}") from None
    if _header(message, "From") is None:
        raise MalformedMail("not a mail: no From header")
    bounce = _is_bounce(message)
    text = _clean(body if bounce else strip_quoted(body))[:MAX_TEXT_CHARS].strip()
    if not text:
        raise MalformedMail("no readable text in the mail")
    ids = message_ids(_header(message, "Message-ID"))
    auto = (_header(message, "Auto-Submitted") or "no").strip().lower()
    return ParsedMail(
        message_id=ids[0] if ids else None,
        sender=sender_address(_header(message, "From")),
        subject=_clean(_header(message, "Subject") or "")[:300],
        text=text,
        in_reply_to=next(iter(message_ids(_header(message, "In-Reply-To"))), None),
        references=message_ids(_header(message, "References"))[-20:],
        attachments=tuple(attachments),
        auto_submitted=auto != "no" or _header(message, "X-Autoreply") is not None,
        bounce=bounce,
    )


def _is_bounce(message: Message) -> bool:
    """A delivery status notification (RFC 3464): ``multipart/report`` of delivery status."""
    return (
        message.get_content_type() == "multipart/report"
        and (message.get_param("report-type") or "") == "delivery-status"
    )
