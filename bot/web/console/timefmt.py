"""Dates, times and durations as agents read them: in their time zone, relative where it helps.

A moment shows relative while it is recent ("3 min ago", "3 分钟前"; after a week the date), and
absolute in the agent's time zone on hover (the ``title``); the page's script
(``console.js``) keeps the relative words current and does the same for rows it adds, with the
words and the zone the page gives it. Waits read as durations ("1 h 5 min").

>>> from zoneinfo import ZoneInfo
>>> now = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
>>> moment = "2026-11-30T09:07:00+00:00"
>>> clock = Clock(ZoneInfo("Asia/Shanghai"), translations("zh").gettext, now)
>>> clock.relative(moment), clock.absolute(moment)
('3 分钟前', '2026-11-30 17:07')
>>> print(clock.time_tag(moment))
<time datetime="2026-11-30T09:07:00+00:00" title="2026-11-30 17:07 (Asia/Shanghai)" data-relative>3 分钟前</time>
>>> Clock(ZoneInfo("UTC"), translations("en").gettext, now).duration(3900)
'1 h 5 min'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape

from bot.web.console.i18n import N_, translations

Translate = Callable[[str], str]

# The words of relative times and durations; console.js gets them too (client_text.py).
JUST_NOW = N_("just now")
MINUTES_AGO = N_("%(n)d min ago")
HOURS_AGO = N_("%(n)d h ago")
DAYS_AGO = N_("%(n)d d ago")
MINUTES = N_("%(m)d min")
HOURS_MINUTES = N_("%(h)d h %(m)d min")
DAYS_HOURS = N_("%(d)d d %(h)d h")
RELATIVE_DAYS = 7  # older moments show their date


def zone(name: str | None, default: str) -> ZoneInfo:
    """The zone called ``name``, else ``default`` (an unknown name too: a zone removed from
    the system's database must not break the console).

    >>> zone(None, "Asia/Shanghai").key, zone("Nowhere/Atlantis", "UTC").key
    ('Asia/Shanghai', 'UTC')
    """
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def parse(moment: str | datetime | None) -> datetime | None:
    """An aware datetime from what views give (ISO text) or a datetime; None for nothing."""
    if moment is None or moment == "":
        return None
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Clock:
    """Formats moments for one agent: their zone, their language's words, and now."""

    tz: ZoneInfo
    _: Translate
    now: datetime

    def absolute(self, moment: str | datetime | None) -> str:
        value = parse(moment)
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def relative(self, moment: str | datetime | None) -> str:
        value = parse(moment)
        if value is None:
            return ""
        seconds = (self.now - value).total_seconds()
        if seconds < 60:
            return self._(JUST_NOW)
        if seconds < 3600:
            return self._(MINUTES_AGO) % {"n": seconds // 60}
        if seconds < 86400:
            return self._(HOURS_AGO) % {"n": seconds // 3600}
        if seconds < RELATIVE_DAYS * 86400:
            return self._(DAYS_AGO) % {"n": seconds // 86400}
        return value.astimezone(self.tz).strftime("%Y-%m-%d")

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return ""
        minutes = int(seconds // 60)
        if minutes < 60:
            return self._(MINUTES) % {"m": minutes}
        if minutes < 24 * 60:
            return self._(HOURS_MINUTES) % {"h": minutes // 60, "m": minutes % 60}
        return self._(DAYS_HOURS) % {"d": minutes // 1440, "h": minutes % 1440 // 60}

    def time_tag(self, moment: str | datetime | None, relative: bool = True) -> Markup:
        """A ``<time>`` element: relative text (or absolute), absolute with the zone on hover;
        ``data-relative`` tells the page's script to keep it current."""
        value = parse(moment)
        if value is None:
            return Markup("")
        shown = self.relative(value) if relative else self.absolute(value)
        return Markup('<time datetime="{}" title="{}"{}>{}</time>').format(
            value.isoformat(),
            f"{self.absolute(value)} ({self.tz.key})",
            Markup(" data-relative") if relative and self._is_recent(value) else Markup(""),
            escape(shown),
        )

    def _is_recent(self, value: datetime) -> bool:
        return (self.now - value).total_seconds() < RELATIVE_DAYS * 86400


def clock(zone_name: str | None, default_zone: str, language: str) -> Clock:
    """A :class:`Clock` for an agent (their zone or the shop's) reading ``language``, now."""
    return Clock(zone(zone_name, default_zone), translations(language).gettext, datetime.now(UTC))
