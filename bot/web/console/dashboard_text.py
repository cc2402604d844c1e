"""The dashboard's words in English and Simplified Chinese: one catalogue, gettext-shaped.

Messages are their English text (gettext's ``msgid``), with ``%(name)s`` placeholders; the
template and the dashboard's modules (``bot/web/console/dashboard*.py``) call ``_("…")``, as
Jinja2's i18n extension and ``gettext`` do. English is the messages themselves;
:data:`CATALOGUES` holds a translation per message for the other languages. Moving the whole console to gettext later means
extracting the ``_("…")`` calls into ``.po`` files (this dict becomes ``zh``'s) and giving the
templates ``gettext.translation(...).gettext`` as ``_``.

The browser chooses (``Accept-Language``, read by
:func:`bot.web.console.locales.console_language`: ``zh*`` is Chinese); ``?lang=en|zh``
overrides it.

>>> _ = translator(dashboard_language(None, "zh-CN,zh;q=0.9"))
>>> _("Conversations"), translator("en")("Conversations")
('会话', 'Conversations')
>>> _("%(m)d min") % {"m": 5}
'5 分钟'
"""

from __future__ import annotations

from collections.abc import Callable

from bot.web.console.locales import CONSOLE_LANGUAGES, console_language
from bot.web.inputs import BadInput

Translate = Callable[[str], str]

CATALOGUES: dict[str, dict[str, str]] = {
    "en": {},  # the messages are English
    "zh": {
        # The page
        "Dashboard": "数据看板",
        "%(first)s to %(last)s (%(timezone)s), compared with %(before_first)s to %(before_last)s": (
            "%(first)s 至 %(last)s（%(timezone)s），对比 %(before_first)s 至 %(before_last)s"
        ),
        "%(first)s to %(last)s (%(timezone)s)": "%(first)s 至 %(last)s（%(timezone)s）",
        "Filters": "筛选",
        "From": "开始日期",
        "To": "结束日期",
        "Group by": "分组",
        "Day": "按天",
        "Week": "按周",
        "Channel": "渠道",
        "All channels": "全部渠道",
        "Web widget": "网页插件",
        "WeChat": "微信",
        "Other channels": "其他渠道",
        "Language": "语言",
        "All languages": "全部语言",
        "Agent": "客服",
        "All agents": "全部客服",
        "Show": "查看",
        "Download CSV": "下载 CSV",
        # The cards
        "Key figures": "关键指标",
        "Change against the previous period:": "与上一周期相比：",
        "Conversations": "会话",
        "New customers": "新客户",
        "Returning customers": "回访客户",
        "Bot resolution rate": "机器人解决率",
        "Handoff rate": "转人工率",
        "of %(n)d conversations with questions": "/ %(n)d 个有提问的会话",
        "First response time (median)": "首次响应时间（中位数）",
        "%(n)d tickets replied; in business hours: %(business)s": (
            "已回复 %(n)d 个工单；按营业时间计：%(business)s"
        ),
        "Satisfaction (1–5)": "满意度（1–5）",
        "%(ratings)d ratings of %(asked)d asked": "邀请 %(asked)d 次，收到 %(ratings)d 个评分",
        "Tickets waiting now": "当前等待中的工单",
        "Longest wait now": "当前最长等待",
        "none": "无",
        "now": "当前",
        "nothing to compare": "无可比较数据",
        "%(n).1f pts": "%(n).1f 个百分点",
        "%(m)d min": "%(m)d 分钟",
        "%(h)d h %(m)d min": "%(h)d 小时 %(m)d 分钟",
        "%(d)d d %(h)d h": "%(d)d 天 %(h)d 小时",
        # The charts
        "Charts": "图表",
        "The figures": "数据",
        "Bot resolution and handoff rates": "机器人解决率与转人工率",
        "No conversations in these days": "所选日期内没有会话",
        "Period": "周期",
        "With questions": "有提问",
        "Bot resolved": "机器人解决",
        "Handed over": "转人工",
        "Handoffs by reason": "转人工原因",
        "No handoffs in these days": "所选日期内没有转人工",
        "Reason": "原因",
        "Handoffs": "转人工次数",
        "Share": "占比",
        "Asked for a person": "要求人工服务",
        "Not found": "未找到答案",
        "Did not help": "没有帮助",
        "Complaint": "投诉",
        "Refused the suggestions": "拒绝了推荐问题",
        "Satisfaction ratings": "满意度评分",
        "No ratings in these days": "所选日期内没有评分",
        "Rating": "评分",
        "Ratings": "评分数",
        # FAQ entries and agents
        "FAQ entries that helped least": "效果最差的常见问题",
        "Sorted by “did not help” plus handoffs soon after the answer, most first.": (
            "按“没有帮助”次数与回答后不久转人工的次数之和排序，多者在前。"
        ),
        "No entry got a “did not help” or a handoff in these days.": (
            "所选日期内没有条目收到“没有帮助”或随后转人工。"
        ),
        "Entry": "条目",
        "Answered": "回答次数",
        "Helped": "有帮助",
        "Handoffs after it": "随后转人工",
        "(not in the FAQ now)": "（已不在常见问题中）",
        "Agents": "客服",
        "Tickets": "工单",
        "Replied": "已回复",
        "Resolved": "已解决",
        "No tickets of an agent in these days.": "所选日期内没有分配给客服的工单。",
    },
}


def dashboard_language(override: str | None, accept_language: str | None) -> str:
    """The dashboard's language: ``override`` (the ``lang`` parameter) when given, else the
    browser's choice; :class:`~bot.web.inputs.BadInput` for an override it does not have."""
    if override:
        if override not in CONSOLE_LANGUAGES:
            raise BadInput(f"lang is one of {', '.join(CONSOLE_LANGUAGES)}")
        return override
    return console_language(accept_language)


def translator(language: str) -> Translate:
    """``_`` for ``language``: a message's translation, the message itself when it has none."""
    catalogue = CATALOGUES.get(language, {})
    return lambda message: catalogue.get(message, message)
