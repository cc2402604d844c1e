"""The words of the continuation mail, in English and Chinese; Taiwan's and Hong Kong's
customers get them in Traditional Chinese (OpenCC, as the domain's responses).

>>> texts_for("zh").subject, texts_for("zh-TW").subject, texts_for("fr").you
('{shop}回复了您的消息', '{shop}回覆了您的訊息', 'You')
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache

from faq_index.chinese import to_traditional
from vocabulary import TRADITIONAL_LOCALES


@dataclass(frozen=True)
class MailTexts:
    subject: str
    greeting: str
    intro: str
    you: str
    agent: str
    assistant: str
    reply_hint: str
    link_hint: str
    link_label: str
    default_shop: str
    html_lang: str


ENGLISH = MailTexts(
    subject="{shop} replied to your message",
    greeting="Hello,",
    intro="You have a reply from {shop} in your chat. Here is the conversation so far:",
    you="You",
    agent="Support",
    assistant="Assistant",
    reply_hint="Simply reply to this e-mail to answer; your reply reaches the same conversation.",
    link_hint="Or continue in the chat: {url}",
    link_label="Continue in the chat",
    default_shop="our shop",
    html_lang="en",
)
CHINESE = MailTexts(
    subject="{shop}回复了您的消息",
    greeting="您好，",
    intro="{shop}在聊天中回复了您。以下是最近的对话：",
    you="您",
    agent="客服",
    assistant="智能助手",
    reply_hint="直接回复本邮件即可，您的回复会回到同一个对话中。",
    link_hint="也可以回到聊天继续：{url}",
    link_label="回到聊天",
    default_shop="客服",
    html_lang="zh-CN",
)


def texts_for(language: str | None) -> MailTexts:
    """The texts for a reply locale (``en``, ``zh``, ``zh-TW``, ``zh-HK``); English otherwise."""
    if language in TRADITIONAL_LOCALES:
        return _traditional(language)
    return CHINESE if (language or "").startswith("zh") else ENGLISH


@cache
def _traditional(locale: str) -> MailTexts:
    converted = {
        field.name: to_traditional(getattr(CHINESE, field.name), locale)
        for field in fields(MailTexts)
        if field.name != "html_lang"
    }
    return replace(CHINESE, **converted, html_lang=locale)
