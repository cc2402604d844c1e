"""Rasa's bot messages as WeChat text, and numbered choices in place of buttons.

WeChat text messages have no buttons, so a message's buttons become numbered lines and the
customer answers with the number; the choices are remembered per customer (in the shared
store) until the bot's next message, and :func:`chosen_payload` turns "2" back into the second
button's payload.

>>> render_messages([{"text": "Did this help?", "buttons": [
...     {"title": "Yes", "payload": "/feedback_helpful"},
...     {"title": "No", "payload": "/feedback_not_helpful"}]}]).texts
['Did this help?\\n1. Yes\\n2. No\\n(Reply with a number.)']
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.locales import message_locale
from connectors.wechat_mp.state import SharedState

CHOICES_TTL = 24 * 3600.0
# How to choose, in the script of the message's own text and buttons.
NUMBER_HINTS = {
    "en": "(Reply with a number.)",
    "zh": "（回复数字即可选择）",
    "zh-TW": "（回覆數字即可選擇）",
    "zh-HK": "（回覆數字即可選擇）",
}


@dataclass
class Rendered:
    texts: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)  # button payloads, in number order


def render_messages(messages: Iterable[Mapping[str, Any]]) -> Rendered:
    """Each bot message as one text: its text, its buttons as numbered lines, its image URL."""
    rendered = Rendered()
    for message in messages:
        lines = [str(message["text"])] if message.get("text") else []
        buttons = message.get("buttons") or message.get("quick_replies") or []
        titles = []
        for button in buttons:
            rendered.choices.append(str(button.get("payload") or button.get("title") or ""))
            titles.append(str(button.get("title") or button.get("payload") or ""))
            lines.append(f"{len(rendered.choices)}. {titles[-1]}")
        if buttons:
            lines.append(NUMBER_HINTS[message_locale(" ".join([*lines, *titles]), None)])
        if message.get("image"):
            lines.append(str(message["image"]))
        if lines:
            rendered.texts.append("\n".join(lines))
    return rendered


async def remember_choices(state: SharedState, openid: str, rendered: Rendered) -> None:
    """Keep the numbered choices the customer was just offered (or forget older ones)."""
    if rendered.choices:
        await state.put(f"choices:{openid}", json.dumps(rendered.choices), CHOICES_TTL)
    elif rendered.texts:
        await state.delete(f"choices:{openid}")


async def chosen_payload(state: SharedState, openid: str, text: str) -> str | None:
    """The payload of the choice ``text`` names by number ("2", "２"), if it names one."""
    number = unicodedata.normalize("NFKC", text).strip().rstrip(".。")
    if not number.isdigit():
        return None
    stored = await state.get(f"choices:{openid}")
    choices = json.loads(stored) if stored else []
    index = int(number) - 1
    return choices[index] if 0 <= index < len(choices) else None
