"""HTML mail bodies into plain text, safely: no markup survives; scripts, styles and quoted
blocks (``<blockquote>``) are dropped, and everything from the start of the quoted history
(Gmail's ``gmail_quote``, Outlook's ``divRplyFwdMsg``, QQ Mail's quote) on.

>>> html_to_text("<p>Hi &amp; thanks<br>Ann</p><script>alert(1)</script>")
'Hi & thanks\\nAnn'
>>> html_to_text('<div>好的</div><blockquote>On Monday Shop wrote: old</blockquote>')
'好的'
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIPPED = frozenset({"script", "style", "head", "title", "blockquote", "template", "noscript"})
BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"}
)
# Elements whose content is the quoted history: Gmail, Outlook (web and desktop), QQ Mail.
QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "appendonsend", "mail-quote", "qqmail_quote")
VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []  # the open elements whose content is dropped
        self._history = False  # the quoted history began: the rest is dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            if tag in BLOCKS and not self._skipping:
                self.parts.append("\n")
            return
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id")).lower()
        if any(marker in marks for marker in QUOTE_MARKERS):
            self._history = True
        elif self._skipping or tag in SKIPPED:
            self._skipping.append(tag)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:  # closes it and whatever was left open inside it
                del self._skipping[self._skipping.index(tag) :]
            return
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping and not self._history:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The visible text of ``html``, one line per block, without the quoted history."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
