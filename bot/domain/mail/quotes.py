"""What a customer wrote in a reply, without the quoted history and the signature.

Mail clients put the history below an attribution ("On Mon, Dec 1, 2026, Shop wrote:",
"在 2026年12月1日，Shop 写道：", Gmail's "Shop <…> 于2026年12月1日周二 09:00写道："), a separator
("-----Original Message-----", QQ Mail's "------------------ 原始邮件 ------------------") or an
Outlook header block ("From: … / Sent: …", "发件人: … / 发送时间: …"); quoted lines start with
">"; the signature follows "-- ".

>>> strip_quoted("Yes, the blue one.\\n\\nOn Mon, Dec 1, 2026 at 9:00 AM Shop <r@x.example>\\nwrote:\\n> Which colour?")
'Yes, the blue one.'
>>> strip_quoted("好的，谢谢\\n\\n-- \\n张三\\n13800000000")
'好的，谢谢'
"""

from __future__ import annotations

import re

_ATTRIBUTION_EN = re.compile(r"^\s*On\b.{0,400}\bwrote:\s*$", re.IGNORECASE)
_ATTRIBUTION_ZH = re.compile(r"^\s*(在|于|於|.{0,300}(于|於)).{0,300}(写道|寫道)\s*[:：]?\s*$")
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Forwarded message|Replied Message|原始邮件|原始郵件|"
    r"回复的原邮件|转发的邮件)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\**(From|发件人|發件人|寄件者)\s*\**\s*[:：]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**(Sent|Date|To|Subject|发送时间|發送時間|日期|收件人|主题|主題|寄件日期)\s*\**\s*[:：]",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|--)$")
_MOBILE = re.compile(
    r"^\s*(Sent from my \S.*|Get Outlook for \S.*|发自我的\S.*|從我的 ?\S.* ?傳送|来自\S*邮箱)\s*$",
    re.IGNORECASE,
)


def _history_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR.match(line) or _ATTRIBUTION_EN.match(line) or _ATTRIBUTION_ZH.match(line):
        return True
    if index + 1 < len(lines):  # an attribution wrapped over two lines
        joined = f"{line} {lines[index + 1].strip()}"
        if line.lstrip().startswith("On ") and _ATTRIBUTION_EN.match(joined):
            return True
        if _ATTRIBUTION_ZH.match(joined) and ("写道" not in line and "寫道" not in line):
            return bool(re.match(r"^\s*(写道|寫道)\s*[:：]?\s*$", lines[index + 1]))
    if _HEADER_FROM.match(line):
        following = lines[index + 1 : index + 4]
        return any(_HEADER_NEXT.match(other) for other in following)
    return False


def strip_quoted(text: str) -> str:
    """``text`` up to where the quoted history or the signature begins, without quoted lines
    (">") and trailing "Sent from my phone" lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line) or _history_starts(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _MOBILE.match(kept[-1])):
        kept.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
