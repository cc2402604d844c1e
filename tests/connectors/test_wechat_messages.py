"""Parsing WeChat's callback XML and writing passive replies."""

from __future__ import annotations

import pytest

from connectors.wechat_mp.messages import (
    MessageError,
    encrypted_envelope,
    parse_fields,
    parse_message,
    text_reply,
)


def xml(**fields: str) -> bytes:
    inner = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    return f"<xml>{inner}</xml>".encode()


BASE = {"ToUserName": "gh_shop", "FromUserName": "oCustomer", "CreateTime": "1700000000"}


def test_text_message():
    message = parse_message(xml(**BASE, MsgType="text", Content=" 退货 ", MsgId="42"))
    assert (message.sender, message.account, message.type) == ("oCustomer", "gh_shop", "text")
    assert message.text == "退货"
    assert message.dedupe_key == "msg:42"


def test_voice_message_reads_as_its_recognition():
    message = parse_message(
        xml(**BASE, MsgType="voice", MediaId="m", Format="amr", Recognition="怎么退货", MsgId="7")
    )
    assert message.text == "怎么退货"
    assert parse_message(xml(**BASE, MsgType="voice", MediaId="m", MsgId="8")).text == ""


def test_events_are_deduplicated_by_sender_time_and_event():
    subscribe = parse_message(xml(**BASE, MsgType="event", Event="subscribe"))
    again = parse_message(xml(**BASE, MsgType="event", Event="subscribe"))
    later = parse_message(
        xml(**{**BASE, "CreateTime": "1700000001"}, MsgType="event", Event="subscribe")
    )
    assert subscribe.event == "subscribe"
    assert subscribe.dedupe_key == again.dedupe_key != later.dedupe_key


def test_nested_elements_are_left_out():
    fields = parse_fields(b"<xml><MsgType>video</MsgType><Video><MediaId>x</MediaId></Video></xml>")
    assert fields == {"MsgType": "video"}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>
<Content>&lol3;</Content></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>
<Content>&e;</Content></xml>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_dtds_and_entities_are_refused(document):
    with pytest.raises(MessageError, match="forbidden"):
        parse_message(document)


@pytest.mark.parametrize(
    "document, reason",
    [
        (b"<xml><ToUserName>gh", "malformed"),
        (b"", "malformed"),
        (b"<html><ToUserName>gh</ToUserName></html>", "not a WeChat"),
        (xml(ToUserName="gh", MsgType="text"), "FromUserName"),
        ("<xml>\udcff</xml>".encode("utf-8", "surrogatepass"), "malformed"),
    ],
)
def test_what_is_not_a_message_is_refused_with_the_reason(document, reason):
    with pytest.raises(MessageError, match=reason):
        parse_message(document)


@pytest.mark.parametrize("encoding", ["UTF-16", "utf-32", "GBK", "Big5", "no-such-codec"])
def test_a_declared_encoding_the_parser_cannot_read_is_refused_not_a_crash(encoding):
    document = f'<?xml version="1.0" encoding="{encoding}"?><xml><MsgType>text</MsgType></xml>'
    with pytest.raises(MessageError, match=r"encoding|malformed"):
        parse_message(document.encode())


def test_a_passive_reply_swaps_the_parties_and_survives_cdata_terminators():
    message = parse_message(xml(**BASE, MsgType="text", Content="hi", MsgId="1"))
    reply = parse_fields(text_reply(message, "a ]]> b <c> & d", create_time=1700000005).encode())
    assert reply == {
        "ToUserName": "oCustomer",
        "FromUserName": "gh_shop",
        "CreateTime": "1700000005",
        "MsgType": "text",
        "Content": "a ]]> b <c> & d",
    }


def test_encrypted_envelope_fields():
    envelope = parse_fields(encrypted_envelope("abc+/=", "sig", "1700000005", "123").encode())
    assert envelope == {
        "Encrypt": "abc+/=",
        "MsgSignature": "sig",
        "TimeStamp": "1700000005",
        "Nonce": "123",
    }
