"""Mails shaped like what customers' clients send (Gmail, Outlook, QQ Mail, Apple Mail), as
raw bytes, for the tests of the mail parser and the receiver."""

from __future__ import annotations

import base64

TOKEN = "abcdefghijklmnopqrstuvwxyz234567"
REPLY_TO = f"reply+{TOKEN}@reply.shop.example"


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def gmail_english(to: str = REPLY_TO, message_id: str = "CAGm1@mail.gmail.com") -> bytes:
    return _crlf(
        f"""From: Ann Lee <ann@example.com>
To: {to}
Subject: Re: Example Shop replied to your message
Message-ID: <{message_id}>
In-Reply-To: <m0@reply.shop.example>
References: <m0@reply.shop.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000b1"

--000000000000b1
Content-Type: text/plain; charset="UTF-8"

Thanks! The blue one, size M please.

On Tue, Dec 1, 2026 at 9:00 AM Example Shop <{to}>
wrote:

> Hello,
> Which colour would you like?

--000000000000b1
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Thanks! The blue one, size M please.</div><br><div class="gmail_quote"><div class="gmail_attr">On Tue, Dec 1, 2026 at 9:00 AM Example Shop wrote:<br></div><blockquote class="gmail_quote">Hello,<br>Which colour would you like?</blockquote></div>

--000000000000b1--
"""
    )


def gmail_chinese() -> bytes:
    body = (
        "好的，我要蓝色的，谢谢！\n\n"
        f"Example Shop <{REPLY_TO}> 于2026年12月1日周二 09:00写道：\n\n"
        "> 您好，请问您要什么颜色？\n"
    )
    encoded = base64.b64encode(body.encode("utf-8")).decode("ascii")
    return _crlf(
        f"""From: =?UTF-8?B?{base64.b64encode("张三".encode()).decode()}?= <zhangsan@example.cn>
To: {REPLY_TO}
Subject: =?UTF-8?B?{base64.b64encode("回复：您的消息".encode()).decode()}?=
Message-ID: <CAGzh@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: base64

{encoded}
"""
    )


def outlook_english() -> bytes:
    return _crlf(
        f"""From: Bob <bob@example.com>
To: {REPLY_TO}
Subject: RE: Example Shop replied to your message
Message-ID: <DB7PR01@eurprd01.prod.outlook.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

It arrived today, all good.

Best regards
Bob

________________________________
From: Example Shop <{REPLY_TO}>
Sent: Tuesday, December 1, 2026 9:00 AM
To: Bob <bob@example.com>
Subject: Example Shop replied to your message

Hello, your parcel ships today.
"""
    )


def outlook_chinese_gb2312() -> bytes:
    # Declared GB2312, as Outlook does, with a character only GBK has (喆).
    body = (
        "收到了，谢谢。王喆\n\n"
        "-----原始邮件-----\n"
        f"发件人: Example Shop <{REPLY_TO}>\n"
        "发送时间: 2026年12月1日 9:00\n"
        "收件人: 王喆\n"
        "主题: 您的消息\n\n"
        "您好，您的包裹今天发货。\n"
    )
    encoded = base64.b64encode(body.encode("gbk")).decode("ascii")
    subject = base64.b64encode("答复: 您的消息".encode("gbk")).decode("ascii")
    return _crlf(
        f"""From: wangzhe@example.cn
To: {REPLY_TO}
Subject: =?gb2312?B?{subject}?=
Message-ID: <outlook-zh@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

{encoded}
"""
    )


def qq_mail() -> bytes:
    html = (
        "<div>能改地址吗？改成上海市浦东新区。</div><div><br></div>"
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;">'
        f'<div><b>发件人:</b>&nbsp;"Example Shop"&lt;{REPLY_TO}&gt;;</div>'
        "<div><b>发送时间:</b>&nbsp;2026年12月1日(星期二) 上午9:00</div></div>"
        "<div>您好，请问还有什么可以帮您？</div>"
    )
    plain = (
        "能改地址吗？改成上海市浦东新区。\n\n"
        "------------------ 原始邮件 ------------------\n"
        f'发件人: "Example Shop"<{REPLY_TO}>;\n'
        "发送时间: 2026年12月1日(星期二) 上午9:00\n\n"
        "您好，请问还有什么可以帮您？\n"
    )
    return _crlf(
        f"""From: "=?gb18030?B?{base64.b64encode("李四".encode("gb18030")).decode()}?=" <10001@qq.com>
To: "{REPLY_TO}" <{REPLY_TO}>
Subject: =?gb18030?B?{base64.b64encode("回复：您的消息".encode("gb18030")).decode()}?=
Message-ID: <tencent_ABC@qq.com>
Mime-Version: 1.0
Content-Type: multipart/alternative; boundary="----=_NextPart_QQ"

------=_NextPart_QQ
Content-Type: text/plain; charset="gb18030"
Content-Transfer-Encoding: base64

{base64.b64encode(plain.encode("gb18030")).decode()}

------=_NextPart_QQ
Content-Type: text/html; charset="gb18030"
Content-Transfer-Encoding: base64

{base64.b64encode(html.encode("gb18030")).decode()}

------=_NextPart_QQ--
"""
    )


def gbk_html_only(message_id: str = "gbk-html@mail.example.cn") -> bytes:
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>您好：</p><p>订单 <b>20261201</b> 还没到，麻烦查一下&amp;回复我。</p>"
        "<script>alert('x')</script>"
        "<blockquote>在 2026-12-01 09:00:00，Example Shop 写道：<br>您好</blockquote>"
        "</body></html>"
    )
    subject = base64.b64encode("订单还没到".encode("gbk")).decode("ascii")
    return _crlf(
        f"""From: =?GBK?B?{base64.b64encode("王五".encode("gbk")).decode()}?= <wangwu@example.cn>
To: {REPLY_TO}
Subject: =?GBK?B?{subject}?=
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: text/html; charset="GBK"
Content-Transfer-Encoding: base64

{base64.b64encode(html.encode("gbk")).decode()}
"""
    )


def with_attachment() -> bytes:
    pdf = base64.b64encode(b"%PDF-1.4 " + b"x" * 1000).decode("ascii")
    return _crlf(
        f"""From: ann@example.com
To: {REPLY_TO}
Subject: Re: invoice
Message-ID: <attach@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=utf-8

Here is the photo of the damage.

Sent from my iPhone

--mix
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf
Content-Transfer-Encoding: base64

{pdf}
--mix--
"""
    )


def multipart_without_boundary() -> bytes:
    return _crlf(
        f"""From: ann@example.com
To: {REPLY_TO}
Subject: broken
Message-ID: <broken@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed

--whatever
Content-Type: text/plain

hello
--whatever--
"""
    )


def only_an_image() -> bytes:
    return _crlf(
        f"""From: ann@example.com
To: {REPLY_TO}
Subject: photo
MIME-Version: 1.0
Content-Type: image/jpeg
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQ==
"""
    )


def out_of_office() -> bytes:
    return _crlf(
        f"""From: ann@example.com
To: {REPLY_TO}
Subject: Automatic reply: Example Shop replied to your message
Auto-Submitted: auto-replied
Message-ID: <ooo@example.com>
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
"""
    )


def bounce(to: str = REPLY_TO) -> bytes:
    return _crlf(
        f"""From: Mail Delivery System <MAILER-DAEMON@smtp.shop.example>
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <dsn1@smtp.shop.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain; charset=us-ascii

<ann@example.com>: host mx.example.com said: 550 5.1.1 user unknown

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; smtp.shop.example

Final-Recipient: rfc822; ann@example.com
Action: failed
Status: 5.1.1

--dsn--
"""
    )


def outlook_web_html_only() -> bytes:
    html = (
        '<html><body><div dir="ltr">Please send the invoice again.</div>'
        '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
        '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Example Shop<br><b>Sent:</b> Tuesday'
        "</div><div>Hello, here is your invoice.</div></body></html>"
    )
    return _crlf(
        f"""From: Bob <bob@example.com>
To: {REPLY_TO}
Subject: RE: invoice
Message-ID: <outlook-web@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"

{html}
"""
    )
