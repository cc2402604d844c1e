"""Callback XML in, passive-reply XML out.

WeChat's XML is flat: ``<xml>`` holding one element per field. It is parsed by defusedxml with
DTDs forbidden, so an entity bomb or an external entity is refused before it expands.

>>> message = parse_message(b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o_1</FromUserName>"
...     b"<CreateTime>1409735668</CreateTime><MsgType>text</MsgType><Content>hi</Content>"
...     b"<MsgId>42</MsgId></xml>")
>>> message.sender, message.text, message.dedupe_key
('o_1', 'hi', 'msg:42')
>>> print(text_reply(message, "hello", create_time=1409735669))
<xml><ToUserName><![CDATA[o_1]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
from defusedxml import DefusedXmlException


class MessageError(ValueError):
    """Callback XML that is not a WeChat message (malformed, with a DTD, fields missing)."""


def parse_fields(data: bytes) -> dict[str, str]:
    """The fields of a flat ``<xml>`` document (nested elements are left out)."""
    try:
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise MessageError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise MessageError(f"malformed XML: {exc}") from exc
    except (ValueError, LookupError) as exc:  # a declared encoding expat cannot read
        raise MessageError(f"unreadable XML encoding: {exc}") from exc
    if root.tag != "xml":
        raise MessageError("the document is not a WeChat <xml> message")
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}


@dataclass(frozen=True)
class Message:
    """One callback message or event, as WeChat names its fields."""

    fields: dict[str, str]

    @property
    def sender(self) -> str:
        """The customer's OpenID."""
        return self.fields["FromUserName"]

    @property
    def account(self) -> str:
        """The Official Account's own id (``gh_...``)."""
        return self.fields["ToUserName"]

    @property
    def type(self) -> str:
        return self.fields["MsgType"].lower()

    @property
    def event(self) -> str:
        return self.fields.get("Event", "").lower()

    @property
    def text(self) -> str:
        """What the customer said: the text, or what WeChat recognised in a voice message."""
        if self.type == "text":
            return self.fields.get("Content", "")
        if self.type == "voice":
            return self.fields.get("Recognition", "")
        return ""

    @property
    def dedupe_key(self) -> str:
        """The same for every retry of this message: its MsgId, or for events (which have
        none) the sender, creation time and event."""
        msg_id = self.fields.get("MsgId")
        if msg_id:
            return f"msg:{msg_id}"
        return f"event:{self.sender}:{self.fields.get('CreateTime', '')}:{self.event}"


def parse_message(data: bytes) -> Message:
    """A callback message; :class:`MessageError` if it lacks the fields every message has."""
    fields = parse_fields(data)
    missing = [f for f in ("ToUserName", "FromUserName", "MsgType") if not fields.get(f)]
    if missing:
        raise MessageError(f"message without {', '.join(missing)}")
    return Message(fields)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: Message, text: str, create_time: int) -> str:
    """The passive reply XML answering ``message`` with ``text``."""
    return (
        f"<xml><ToUserName>{_cdata(message.sender)}</ToUserName>"
        f"<FromUserName>{_cdata(message.account)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(text)}</Content></xml>"
    )


def encrypted_envelope(encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode reply: the encrypted reply XML, its signature, timestamp and nonce."""
    return (
        f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{_cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
    )
