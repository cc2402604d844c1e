"""What the web service accepts from outside: JSON bodies, ids, texts and query parameters.

Checks that raise :class:`BadInput` (the message says what is wrong, for the caller) before
anything is stored, so that bad input changes nothing; the console's API turns the exception
into a JSON 400 (413 for :class:`BodyTooLarge`, see :mod:`bot.web.console.errors`), the widget's
history into its own. The console and the widget both use them, so they live here, beside
neither.

>>> parse_id("42", "ticket id")
42
>>> text_field({"text": "hi\\n"}, "text", 10)
'hi\\n'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

# Ids are PostgreSQL INTEGERs: anything outside this range cannot name a row.
MAX_ID = 2**31 - 1
MAX_BODY_BYTES = 64 * 1024
# A JSON body nested deeper than this is refused before Python's recursion limit is near.
MAX_JSON_DEPTH = 32
# Short query parameters (channel, reason...): the columns they are compared with are shorter.
MAX_PARAMETER_CHARS = 64

_DIGITS = re.compile(r"[0-9]{1,10}")
# Lone surrogates cannot be stored as UTF-8; control characters other than line breaks and
# tabs are never part of what people type.
_FORBIDDEN = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadInput(ValueError):
    """Input that is refused as a whole; the message is safe to show."""


class BodyTooLarge(BadInput):
    def __init__(self, max_size: int, actual_size: int) -> None:
        super().__init__(f"the request body is too large (at most {max_size} bytes)")
        self.max_size = max_size
        self.actual_size = actual_size


def check_text(value: str, name: str) -> str:
    """``value`` if it has no lone surrogates and no control characters but line breaks and
    tabs; :class:`BadInput` otherwise."""
    found = _FORBIDDEN.search(value)
    if found:
        raise BadInput(f"{name} contains a character that is not allowed ({found.group()!a})")
    return value


def _check_tree(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise BadInput("the JSON body is nested too deeply")
    if isinstance(value, str):
        check_text(value, "the body")
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, "the body")
            _check_tree(item, depth + 1)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (UTF-8), every string in it checked by :func:`check_text`."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(MAX_BODY_BYTES, len(raw))
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise BadInput("the body must be a JSON object in UTF-8") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    _check_tree(body)
    return body


def parse_id(value: str | None, name: str) -> int:
    """A row id from a URL: ASCII digits, 1 to :data:`MAX_ID`."""
    if value is None or not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        raise BadInput(f"{name} must be a whole number from 1 to {MAX_ID}")
    return int(value)


def id_field(body: Mapping[str, Any], name: str, required: bool = True) -> int | None:
    """A row id from a JSON body: a JSON integer (not a boolean, not a string), in range."""
    value = body.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise BadInput(f"{name} must be a whole number from 1 to {MAX_ID}")
    return value


def text_field(
    body: Mapping[str, Any], name: str, max_chars: int, required: bool = True
) -> str | None:
    """A string from a JSON body, at most ``max_chars`` long; ``None`` for a missing or null
    optional one. Whether blank text is acceptable is the operation's to say."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    if len(value) > max_chars:
        raise BadInput(f"{name} is longer than {max_chars} characters")
    return check_text(value, name)


def int_parameter(
    query: Mapping[str, str], name: str, low: int, high: int, default: int | None = None
) -> int | None:
    """A whole number from the query string, ``low`` to ``high``; ``default`` when absent."""
    value = query.get(name, "")
    if value == "":
        return default
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise BadInput(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def text_parameter(
    query: Mapping[str, str], name: str, max_chars: int = MAX_PARAMETER_CHARS
) -> str | None:
    """A short text from the query string; ``None`` when absent or empty."""
    value = query.get(name, "")
    if len(value) > max_chars:
        raise BadInput(f"{name} is longer than {max_chars} characters")
    return check_text(value, name) or None


async def _read(request: web.Request, max_bytes: int) -> bytes:
    """The body, refused past ``max_bytes`` whether or not it says its length (a chunked body
    does not)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(max_bytes, request.content_length)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(max_bytes + 1 - size):
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes, size)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: web.Request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object, read at most ``max_bytes`` far and checked by
    :func:`parse_json_object`; raises :class:`BodyTooLarge` or :class:`BadInput` otherwise."""
    return parse_json_object(await _read(request, max_bytes))
