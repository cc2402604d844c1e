"""The continuation mail: what the customer reads, escaped, threaded, in their language."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from bot.domain.mail.inbound import parse_mail
from bot.domain.mail.outbound import Continuation, Line, compose, new_message_id, to_message

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def _mail(language="en", chat_url="https://shop.example/help", shop="Example Shop"):
    return compose(
        Continuation(
            shop_name=shop,
            language=language,
            chat_url=chat_url,
            lines=(
                Line("customer", None, HOSTILE, AT),
                Line("bot", None, "Let me find a person.", AT),
                Line("agent", "Ann <admin>", "Your parcel ships today.\nTracking: 42", AT),
            ),
        )
    )


def test_every_customer_and_agent_text_is_escaped_in_the_html():
    mail = _mail()
    assert "<script>" not in mail.html and "<img" not in mail.html
    assert "&lt;script&gt;" in mail.html and "Ann &lt;admin&gt;" in mail.html
    assert HOSTILE in mail.text  # the plain text part shows it as written


def test_the_mail_has_the_conversation_the_shop_and_the_link_back():
    mail = _mail()
    assert mail.subject == "Example Shop replied to your message"
    for part in (mail.text, mail.html):
        assert "Your parcel ships today." in part and "https://shop.example/help" in part
    assert "Ann <admin>:\n  Your parcel ships today.\n  Tracking: 42" in mail.text


def test_chinese_customers_get_chinese_words():
    mail = _mail(language="zh", shop="示例商店")
    assert mail.subject == "示例商店回复了您的消息"
    assert "直接回复本邮件即可" in mail.text and 'lang="zh-CN"' in mail.html


def test_a_link_that_is_not_http_is_left_out():
    mail = _mail(chat_url="javascript:alert(1)")
    assert "javascript" not in mail.html and "javascript" not in mail.text


def test_the_message_threads_and_survives_smtp_and_our_own_parser():
    message = to_message(
        _mail(language="zh", shop="示例商店"),
        sender="support@shop.example",
        sender_name="示例商店",
        recipient="ann@example.com",
        reply_to="reply+abc@reply.shop.example",
        message_id=new_message_id("reply.shop.example"),
        in_reply_to="CAGm1@mail.gmail.com",
        references=("m0@reply.shop.example", "CAGm1@mail.gmail.com"),
        date=AT,
    )
    raw = message.as_bytes(policy=policy.SMTP)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    read = message_from_bytes(raw, policy=policy.default)
    assert read["Subject"] == "示例商店回复了您的消息"
    assert read["From"].addresses[0].display_name == "示例商店"
    assert read["Reply-To"] == "reply+abc@reply.shop.example"
    assert read["References"] == "<m0@reply.shop.example> <CAGm1@mail.gmail.com>"
    assert read["Message-ID"].endswith("@reply.shop.example>")
    assert [part.get_content_type() for part in read.iter_parts()] == ["text/plain", "text/html"]
    assert "Your parcel ships today." in parse_mail(raw).text


def test_taiwan_and_hong_kong_customers_read_traditional_chinese():
    mail = _mail(language="zh-TW", shop="示例商店")
    assert mail.subject == "示例商店回覆了您的訊息"
    assert 'lang="zh-TW"' in mail.html
