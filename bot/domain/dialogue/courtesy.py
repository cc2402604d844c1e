"""The question inside a message that also thanks, greets, agrees or disagrees.

Customers wrap questions in courtesy: "thanks. also how do I return a jacket?", "no the package
never came", "ok so how long does the refund take", "好的，那退款要多久". NLU gives such a
message one intent, often the courtesy's; the FAQ search is thrown off by the extra words.
:func:`question_in` peels courtesy, yes/no and linking words off both ends and returns what is
left, or ``None`` when nothing is (the message was only courtesy).

>>> question_in("thanks. also how do I return a jacket?")
'how do I return a jacket?'
>>> question_in("no the package never came")
'the package never came'
>>> question_in("好的，那么退款要多久"), question_in("謝謝！"), question_in("yes please")
('退款要多久', None, None)
"""

from __future__ import annotations

import re

_EN_LEADS = (
    "thank you so much|thank you very much|thank you|thanks a lot|thanks so much|many thanks"
    "|thanks|thx|thanx|tks|ty|cheers|much appreciated|appreciate it"
    "|okay|ok|k|alright|all right|great|cool|perfect|nice|good|got it|i see|understood|fine"
    "|yes|yeah|yep|yup|ya|sure|right|correct|exactly"
    "|no|nope|nah|not really|not quite|that's not it|thats not it|not that|wrong"
    "|hi there|hello there|hey there|hi|hello|hey|hiya|good morning|good afternoon|good evening"
    "|sorry|excuse me|well|um+|uh+|oh|ah|hmm+"
    "|and also|also|and|so|but|btw|by the way|then|one more thing|another question"
    "|one more question|actually|anyway|what i meant is|what i meant was|what i mean is"
    "|i meant|i mean|meant|bye bye|bye|goodbye|see you|see ya"
)
_EN_TRAILS = (
    "thanks a lot|thank you|thanks|thx|ty|cheers|please|pls|plz|thank u|bye|goodbye|see you"
)
# Separators between a lead and the rest: punctuation, spaces, dashes, emoji-free.
_SEP = r"[\s,.;:!?~…，。；：！？、～\-]"

_EN_LEAD = re.compile(rf"^(?:{_EN_LEADS})(?:{_SEP}+|$)", re.IGNORECASE)
_EN_TRAIL = re.compile(rf"(?:^|{_SEP}+)(?:{_EN_TRAILS})[\s.!~…。！]*$", re.IGNORECASE)

# Chinese (both scripts). Thanks, greetings and linking words may run straight into the
# question ("谢谢那么退款要多久"); yes/no words and single characters only count when
# punctuation or a space follows them, because they also start questions (没有收到货, 好评返现).
_ZH_RUN_IN_LEADS = (
    "非常感谢|非常感謝|谢谢你|谢谢您|谢谢啦|谢谢|謝謝你|謝謝您|謝謝|多谢|多謝|感谢|感謝|谢了|謝了"
    "|唔该|唔該|好的|你好|您好|哈喽|哈囉|嗨|在吗|在嗎|客服你好|客服您好|亲|親"
    "|还有|還有|另外|那么|那麼|然后|然後|我是说|我是說|我的意思是|我想问一下|我想問一下|我想问|我想問"
    "|顺便问一下|順便問一下|顺便问|順便問|其实|其實"
)
_ZH_SEPARATED_LEADS = (
    "是的|对的|對的|没错|沒錯|不是的|不是|不对|不對|不用了|不用|没有|沒有|好吧|好啊|嗯嗯|可以"
    "|唔使|唔係|好呀|係呀|再见|再見|拜拜|好|嗯|哦|噢|喔|对|對|是|不|没|沒|那|係|冇|啊"
)
_ZH_TRAILS = (
    "谢谢你|谢谢您|谢谢啦|谢谢|謝謝|多谢|多謝|感谢|感謝|唔该|唔該|麻烦了|麻煩了|麻烦你了|麻煩你了"
    "|再见|再見|拜拜"
)

_ZH_LEAD = re.compile(rf"^(?:(?:{_ZH_RUN_IN_LEADS}){_SEP}*|(?:{_ZH_SEPARATED_LEADS})(?:{_SEP}+|$))")
_ZH_TRAIL = re.compile(rf"{_SEP}*(?:{_ZH_TRAILS})[\s.!~…。！啊啦]*$")

_WORDS = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def question_in(text: str) -> str | None:
    """The message without its courtesy, or ``None`` when courtesy was all it held.

    Button payloads (``/intent{...}``) are returned unchanged. Only whole leading or trailing
    phrases are removed, so a question that merely contains "no" or 好 keeps every word.
    """
    text = " ".join(text.split())
    if text.startswith("/"):
        return text
    rest = text
    while True:
        peeled = _peel_once(rest)
        if peeled == rest:
            break
        rest = peeled
    if not _WORDS.search(rest):
        return None
    return rest


def _peel_once(text: str) -> str:
    for pattern in (_EN_LEAD, _ZH_LEAD):
        match = pattern.match(text)
        if match and match.end() > 0:
            return text[match.end() :].lstrip()
    for pattern in (_EN_TRAIL, _ZH_TRAIL):
        match = pattern.search(text)
        if match and match.start() < len(text):
            return text[: match.start()].rstrip(" ,.;:!~…，。；：！～-")
    return text
