"""Make what the event broker delivers storable, whoever wrote it.

Broker payloads are untrusted: a client can put anything JSON allows into a message, its
metadata or its sender id, and a SQLite broker table can hold bytes that are not UTF-8 at all.
JSON's ``"\\udc80"`` escape decodes to a lone surrogate, which no UTF-8 encoder (SQLite's,
asyncpg's, ``str.encode``) accepts, and PostgreSQL refuses NUL in text. So what we store is
cleaned first: lone surrogates become U+FFFD (the replacement character), control characters
other than newline, carriage return and tab are removed. What cannot be made into an event
(a nesting too deep to walk, a sender id that is no conversation id) raises :class:`InvalidEvent`.

>>> clean_text("bad \\udc80 byte\\x00")
'bad \\ufffd byte'
>>> clean_value({"text": ["a\\x1bb"]})
{'text': ['ab']}
>>> decode_payload(b"caf\\xc3\\xa9 \\xff")
'café \\udcff'
"""

from __future__ import annotations

import json
import re
from typing import Any

# A conversation id fits Conversation.sender_id (and Rasa's own sender_id column).
MAX_SENDER_CHARS = 255
# Deeper than any event Rasa writes; bounds the recursion of cleaning and hashing an event.
MAX_DEPTH = 64
REPLACEMENT = "\ufffd"
SURROGATES = re.compile("[\ud800-\udfff]")
# Unicode's control characters (Cc: C0, DEL, C1) except \t \n \r.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InvalidEvent(ValueError):
    """A payload that no cleaning makes into a storable event."""


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and control characters removed.

    Args:
        text: any Python string, including lone surrogates (from JSON escapes or from bytes
            decoded with ``surrogateescape``).

    Returns:
        A string every UTF-8 encoder and every database we use accepts.
    """
    return CONTROLS.sub("", SURROGATES.sub(REPLACEMENT, text))


def clean_value(value: Any, depth: int = 0) -> Any:
    """A copy of decoded JSON ``value`` with every string in it (keys too) cleaned.

    Args:
        value: what ``json.loads`` returned, or any part of it.
        depth: how deep ``value`` sits in the whole (callers leave it at 0).

    Returns:
        The cleaned copy; numbers, booleans and None are returned as they are.

    Raises:
        InvalidEvent: the value nests deeper than ``MAX_DEPTH``.
    """
    if depth > MAX_DEPTH:
        raise InvalidEvent(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(item, depth + 1) for item in value]
    return value


def clean_sender(value: object) -> str:
    """The conversation id ``value`` names, cleaned.

    Args:
        value: the broker row's sender id or the event's ``sender_id`` field, as delivered.

    Returns:
        The cleaned id, 1 to ``MAX_SENDER_CHARS`` characters.

    Raises:
        InvalidEvent: no id, not a string, nothing left once cleaned, or too long (cutting it
            could make it another conversation's id).
    """
    if not isinstance(value, str):
        raise InvalidEvent(f"no sender id (got {type(value).__name__})")
    sender = clean_text(value)
    if not sender.strip():
        raise InvalidEvent("an empty sender id")
    if len(sender) > MAX_SENDER_CHARS:
        raise InvalidEvent(f"a sender id of {len(sender)} characters (at most {MAX_SENDER_CHARS})")
    return sender


def decode_payload(raw: bytes | str | None) -> str:
    """A broker payload as text, whatever its bytes: undecodable bytes become lone surrogates
    (``surrogateescape``), which :func:`clean_text` then replaces.

    Args:
        raw: a RabbitMQ message body, or a broker row's column as the database returned it.

    Returns:
        The text; an empty string for None.
    """
    if raw is None:
        return ""
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw).decode("utf-8", "surrogateescape")
    return raw


def storable(text: str | None, limit: int | None = None) -> str | None:
    """``text`` cleaned and cut to ``limit`` characters, for columns that must take anything.

    Args:
        text: any string, or None.
        limit: the column's length; None for no limit.

    Returns:
        The cleaned text, or None for None.
    """
    if text is None:
        return None
    cleaned = clean_text(text)
    return cleaned if limit is None else cleaned[:limit]


def parse_event(raw: bytes | str | None) -> dict[str, Any]:
    """The event object a broker payload holds, as decoded (not yet cleaned: the event's digest
    is computed on what came, see :func:`bot.workers.ingestion.event_key`).

    Args:
        raw: a RabbitMQ message body or a broker row's data.

    Returns:
        The decoded JSON object.

    Raises:
        ValueError: not JSON (``json.JSONDecodeError``).
        InvalidEvent: JSON, but not an object.
    """
    event = json.loads(decode_payload(raw))
    if not isinstance(event, dict):
        raise InvalidEvent(f"not an event object but a JSON {type(event).__name__}")
    return event
