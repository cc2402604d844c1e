"""Reading customers' e-mailed answers: the new text only, whatever client wrote it."""

from __future__ import annotations

import pytest

from bot.domain.mail.inbound import MalformedMail, parse_mail
from tests.bot.domain import mail_samples as samples


def test_gmail_reply_keeps_the_answer_and_drops_the_wrapped_attribution_and_quote():
    mail = parse_mail(samples.gmail_english())
    assert mail.text == "Thanks! The blue one, size M please."
    assert mail.sender == "ann@example.com"
    assert mail.message_id == "CAGm1@mail.gmail.com"
    assert (mail.in_reply_to, mail.references) == (
        "m0@reply.shop.example",
        ("m0@reply.shop.example",),
    )


def test_chinese_gmail_reply_with_encoded_headers():
    mail = parse_mail(samples.gmail_chinese())
    assert mail.text == "好的，我要蓝色的，谢谢！"
    assert mail.subject == "回复：您的消息"
    assert mail.sender == "zhangsan@example.cn"


def test_outlook_reply_stops_at_its_header_block():
    mail = parse_mail(samples.outlook_english())
    assert mail.text == "It arrived today, all good.\n\nBest regards\nBob"


def test_gb2312_declared_mail_with_gbk_characters_is_read_whole():
    mail = parse_mail(samples.outlook_chinese_gb2312())
    assert mail.text == "收到了，谢谢。王喆"
    assert mail.subject == "答复: 您的消息"


def test_qq_mail_reply_stops_at_the_original_mail_separator():
    mail = parse_mail(samples.qq_mail())
    assert mail.text == "能改地址吗？改成上海市浦东新区。"
    assert mail.sender == "10001@qq.com"
    assert mail.subject == "回复：您的消息"


def test_html_only_gbk_mail_becomes_plain_text_without_markup_scripts_or_quote():
    mail = parse_mail(samples.gbk_html_only())
    assert mail.text == "您好：\n\n订单 20261201 还没到，麻烦查一下&回复我。"
    assert mail.subject == "订单还没到"
    assert "<" not in mail.text and "alert" not in mail.text and "color" not in mail.text


def test_attachments_are_noted_by_name_and_size_and_the_phone_footer_dropped():
    mail = parse_mail(samples.with_attachment())
    assert mail.text == "Here is the photo of the damage."
    [attachment] = mail.attachments
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "发票.pdf",
        "application/pdf",
        1009,
    )


def test_signature_after_dash_dash_space_is_cut():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Please cancel order 42.\r\n-- \r\nAnn Lee\r\nACME Ltd, +1 555 0100\r\n"
    )
    assert parse_mail(raw).text == "Please cancel order 42."


@pytest.mark.parametrize("raw", [samples.multipart_without_boundary(), samples.only_an_image()])
def test_a_mail_without_readable_text_is_refused(raw):
    with pytest.raises(MalformedMail):
        parse_mail(raw)


def test_garbage_is_refused_not_crashed_on():
    with pytest.raises(MalformedMail):
        parse_mail(b"\x00\xff\xfe garbage without headers or body")


def test_control_characters_go_and_long_texts_are_cut():
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + b"a\x07b\x1bc " * 10_000
    )
    text = parse_mail(raw).text
    assert "\x07" not in text and "\x1b" not in text
    assert len(text) <= 10_000


def test_an_unknown_charset_is_read_as_utf8():
    raw = (
        "From: a@example.com\r\nContent-Type: text/plain; charset=x-unknown-9\r\n\r\nhéllo\r\n"
    ).encode()
    assert parse_mail(raw).text == "héllo"


def test_automatic_answers_and_bounces_are_recognised():
    assert parse_mail(samples.out_of_office()).auto_submitted
    assert not parse_mail(samples.gmail_english()).auto_submitted
    report = parse_mail(samples.bounce())
    assert report.bounce and "user unknown" in report.text


def test_the_key_is_the_message_id_else_the_whole_mail():
    first, again = samples.gmail_english(), samples.gmail_english()
    assert parse_mail(first).key(first) == parse_mail(again).key(again)
    without_id = samples.only_an_image().replace(b"image/jpeg", b"text/plain")
    mail = parse_mail(without_id)
    assert mail.message_id is None
    assert mail.key(without_id) != mail.key(without_id + b"x")


def test_outlook_html_stops_where_the_history_begins():
    assert parse_mail(samples.outlook_web_html_only()).text == "Please send the invoice again."
