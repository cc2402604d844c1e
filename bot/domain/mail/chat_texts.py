"""What the bot says in the chat about e-mail: asking for an address when nobody can answer
now, and its answers to what the customer types back. English and Chinese; Taiwan's and Hong
Kong's customers get them in Traditional Chinese (OpenCC, as the mail's words in :mod:`.texts`).

>>> chat_texts_for("zh").declined, chat_texts_for("zh-TW").declined
('好的，回复会显示在这个聊天中。', '好的，回覆會顯示在這個聊天中。')
>>> chat_texts_for("fr").declined
'All right: the reply will appear here in the chat.'
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

from faq_index.chinese import to_traditional
from vocabulary import TRADITIONAL_LOCALES


@dataclass(frozen=True)
class ChatTexts:
    ask: str
    on_file: str  # {address}
    confirmed: str  # {address}
    declined: str
    invalid: str


ENGLISH = ChatTexts(
    ask=(
        "If you leave us your e-mail address, we will also send the reply there in case you "
        'have left the chat by then. Type your address, or "no" to wait for it here.'
    ),
    on_file="If you have left the chat by then, we will also send the reply to {address}.",
    confirmed="Thank you: if you have left the chat, the reply will also reach you at {address}.",
    declined="All right: the reply will appear here in the chat.",
    invalid=(
        "That does not look like an e-mail address (it should look like name@example.com). "
        'Please type it again, or "no" to wait for the reply here.'
    ),
)
CHINESE = ChatTexts(
    ask="如果您留下邮箱地址，万一您届时已离开聊天，我们也会把回复发送到您的邮箱。请输入邮箱地址，或回复“不用”在这里等待。",
    on_file="如果届时您已离开聊天，我们也会把回复发送到 {address}。",
    confirmed="谢谢！如果您离开了聊天，回复也会发送到 {address}。",
    declined="好的，回复会显示在这个聊天中。",
    invalid="这似乎不是有效的邮箱地址（格式如 name@example.com）。请重新输入，或回复“不用”在这里等待回复。",
)


def chat_texts_for(language: str | None) -> ChatTexts:
    """The texts for a reply locale (``en``, ``zh``, ``zh-TW``, ``zh-HK``); English otherwise."""
    if language in TRADITIONAL_LOCALES:
        return _traditional(language)
    return CHINESE if (language or "").startswith("zh") else ENGLISH


@cache
def _traditional(locale: str) -> ChatTexts:
    return ChatTexts(
        **{
            field.name: to_traditional(getattr(CHINESE, field.name), locale)
            for field in fields(ChatTexts)
        }
    )
