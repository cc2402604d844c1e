"""The input gate: what every channel checks before a customer's message reaches Rasa.

Nothing a client sends may stop a server: a sender id with a lone UTF-16 surrogate once made
Rasa's tracker store fail and Rasa exit, and a 100 kB message froze NLU for every customer.
So each channel (REST, socket.io, WeChat, any later one) passes what it received through
:func:`admit` before it builds a ``UserMessage``:

- a sender id is a string of 1 to :data:`MAX_SENDER_CHARS` printable characters that
  round-trip as UTF-8;
- a text is a string that round-trips as UTF-8, with no control characters but line breaks
  and tabs, not empty, and no longer than the channel's limit (``MAX_MESSAGE_CHARS``);
- metadata is a JSON object of at most :data:`MAX_METADATA_BYTES` that round-trips as UTF-8;
  the keys channels set themselves (:data:`SERVER_KEYS`) are dropped from what clients send.

A refusal is a :class:`Refused` with an HTTP status for the channel's answer and, where the
customer can be told, a reply in their language: English, Simplified Chinese, or Traditional
Chinese for Taiwan and Hong Kong (:func:`reply_language`). This module imports nothing of
Rasa's, so that it can be tested (and fuzzed) on its own.

>>> admit("web-1", " Where is my order? ", {"language": "en"}, max_chars=1000).text
'Where is my order?'
>>> admit("web-1", "x" * 2000, None, max_chars=1000)
Traceback (most recent call last):
...
connectors.gate.Refused: too_long: the message has 2000 characters; at most 1000 are read
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.locales import message_locale, round_trips

DEFAULT_MAX_MESSAGE_CHARS = 1000
MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 8 * 1024
# Set by the channels themselves, never taken from what a client sends.
SERVER_KEYS = ("origin",)
ALLOWED_CONTROLS = {"\n", "\r", "\t"}

# zh-TW and zh-HK: OpenCC's s2twp and s2hk of the zh text (Rasa's venv has no OpenCC), 賬號
# made Taiwan's 帳號; the tests check that they still say what the zh text says.
REPLIES = {
    "too_long": {
        "en": "Your message is too long for me ({length} characters). Please send your "
        "question in at most {limit} characters.",
        "zh": "您的消息太长了（{length} 个字符），请把问题缩短到 {limit} 个字符以内再发给我。",
        "zh-TW": "您的訊息太長了（{length} 個字元），請把問題縮短到 {limit} 個字元以內再發給我。",
        "zh-HK": "您的消息太長了（{length} 個字符），請把問題縮短到 {limit} 個字符以內再發給我。",
    },
    "empty": {
        "en": "I didn't get any text. Please type your question.",
        "zh": "没有收到文字内容，请输入您的问题。",
        "zh-TW": "沒有收到文字內容，請輸入您的問題。",
        "zh-HK": "沒有收到文字內容，請輸入您的問題。",
    },
    "bad_text": {
        "en": "I couldn't read that message (it contains characters I can't handle). "
        "Please type your question again.",
        "zh": "无法读取这条消息（含有无法处理的字符），请重新输入您的问题。",
        "zh-TW": "無法讀取這條訊息（含有無法處理的字元），請重新輸入您的問題。",
        "zh-HK": "無法讀取這條消息（含有無法處理的字符），請重新輸入您的問題。",
    },
    "bad_metadata": {
        "en": "Your message could not be accepted. Please reload the page and try again.",
        "zh": "消息无法接收，请刷新页面后重试。",
        "zh-TW": "訊息無法接收，請重新整理頁面後重試。",
        "zh-HK": "消息無法接收，請刷新頁面後重試。",
    },
    "hold": {
        "en": "One moment please: I'll answer you in a few seconds.",
        "zh": "请稍等，我几秒钟后回复您。",
        "zh-TW": "請稍等，我幾秒鐘後回覆您。",
        "zh-HK": "請稍等，我幾秒鐘後回覆您。",
    },
    "unavailable": {
        "en": "Sorry, I can't answer right now. Please send your message again in a few minutes.",
        "zh": "抱歉，我现在无法回复。请过几分钟再发送您的消息。",
        "zh-TW": "抱歉，我現在無法回覆。請過幾分鐘再發送您的訊息。",
        "zh-HK": "抱歉，我現在無法回覆。請過幾分鐘再發送您的消息。",
    },
    "wrong_identity": {
        "en": "This conversation belongs to another account. Please reload the page to "
        "start a new conversation.",
        "zh": "此对话属于另一个账号，请刷新页面开始新的对话。",
        "zh-TW": "此對話屬於另一個帳號，請重新整理頁面開始新的對話。",
        "zh-HK": "此對話屬於另一個賬號，請刷新頁面開始新的對話。",
    },
}


class Refused(Exception):
    """A message the gate does not let through.

    ``code`` names the rule, ``status`` is the HTTP status a channel answers with, and
    ``reply`` is what to tell the customer (in their language), or None when nobody can be
    told (a sender id that is not one).
    """

    def __init__(self, code: str, detail: str, status: int, reply: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
        self.reply = reply


@dataclass(frozen=True)
class Admitted:
    """A message the gate let through: a clean sender id, text and metadata."""

    sender_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def reply_language(text: object, metadata: object = None) -> str:
    """The locale of a refusal: the text's Chinese script (Traditional: ``zh-TW``, or ``zh-HK``
    for Cantonese or a Hong Kong page), else the page's language (metadata ``language``, a tag
    such as ``zh-Hant-HK``), else ``en``."""
    hint = metadata.get("language") if isinstance(metadata, Mapping) else None
    return message_locale(text, hint)


def reply_for(code: str, language: str, **values: object) -> str:
    """The customer-facing text of a refusal ``code`` in the locale ``language``."""
    replies = REPLIES[code]
    chosen = language if language in replies else "zh" if language.startswith("zh") else "en"
    return replies[chosen].format(**values)


def _has_control(value: str, allowed: set[str]) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)


def check_sender(value: object) -> str:
    """A usable conversation id; raises :class:`Refused` (400) otherwise."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise Refused("bad_sender", "the sender id must be a non-empty string", 400)
    if len(value) > MAX_SENDER_CHARS:
        raise Refused("bad_sender", f"the sender id is longer than {MAX_SENDER_CHARS}", 400)
    if not round_trips(value) or _has_control(value, set()) or not value.isprintable():
        raise Refused("bad_sender", "the sender id has characters that are not allowed", 400)
    return value


def check_text(value: object, max_chars: int, language: str = "en") -> str:
    """The message text, stripped; raises :class:`Refused` with a reply in ``language``."""
    if not isinstance(value, str):
        raise Refused(
            "bad_text", "the message must be a string", 400, reply_for("bad_text", language)
        )
    if not round_trips(value) or _has_control(value, ALLOWED_CONTROLS):
        raise Refused(
            "bad_text",
            "the message has characters that are not allowed",
            400,
            reply_for("bad_text", language),
        )
    text = value.strip()
    if not text:
        raise Refused("empty", "the message is empty", 400, reply_for("empty", language))
    if len(text) > max_chars:
        raise Refused(
            "too_long",
            f"the message has {len(text)} characters; at most {max_chars} are read",
            413,
            reply_for("too_long", language, length=len(text), limit=max_chars),
        )
    return text


def check_metadata(value: object, language: str = "en") -> dict[str, Any]:
    """The message's metadata without the keys channels set; raises :class:`Refused`."""
    if value is None:
        return {}
    refusal = Refused(
        "bad_metadata",
        f"metadata must be a JSON object of at most {MAX_METADATA_BYTES} bytes of UTF-8",
        400,
        reply_for("bad_metadata", language),
    )
    if not isinstance(value, Mapping):
        raise refusal
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        raise refusal from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise refusal
    cleaned: dict[str, Any] = json.loads(encoded)  # a Mapping, dumped: a JSON object
    for key in SERVER_KEYS:
        cleaned.pop(key, None)
    return cleaned


def message_limit(value: object) -> int:
    """A channel's ``max_message_chars`` from credentials (a string after ``${VAR}``
    expansion); the default when it is missing or not a positive number."""
    try:
        limit = int(str(value))
    except ValueError:
        return DEFAULT_MAX_MESSAGE_CHARS
    return limit if limit > 0 else DEFAULT_MAX_MESSAGE_CHARS


def admit(sender_id: object, text: object, metadata: object, max_chars: int) -> Admitted:
    """Check everything a client sent with a message; raises :class:`Refused`."""
    language = reply_language(text, metadata)
    return Admitted(
        check_sender(sender_id),
        check_text(text, max_chars, language),
        check_metadata(metadata, language),
    )
