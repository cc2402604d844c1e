"""Durations counted in business hours only (``BUSINESS_HOURS`` in ``BUSINESS_TIMEZONE``).

A ticket opened at 17:30 on a Monday and answered at 09:30 on Tuesday, with hours
``Mon-Fri 09:00-18:00``, waited 16 hours, of which one was in business hours: the customer
waited, but nobody was expected to answer overnight. Each day of the interval contributes its
overlap with that day's opening hours, the hours read on the local clock, the overlap measured
in elapsed seconds.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> hours = BusinessHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")
>>> shanghai = ZoneInfo("Asia/Shanghai")
>>> business_seconds(datetime(2026, 3, 2, 17, 30, tzinfo=shanghai),
...                  datetime(2026, 3, 3, 9, 30, tzinfo=shanghai), hours)
3600.0
>>> business_seconds(datetime(2026, 3, 6, 17, 0, tzinfo=shanghai),  # Friday to Monday
...                  datetime(2026, 3, 9, 10, 0, tzinfo=shanghai), hours)
7200.0
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta

from bot.settings.hours import END_OF_DAY, BusinessHours


def business_seconds(start: datetime, end: datetime, hours: BusinessHours) -> float:
    """Seconds of ``start`` to ``end`` (aware datetimes) within business hours.

    Args:
        start: when the wait began.
        end: when it ended; before ``start``, the duration is 0.
        hours: the shop's business hours and time zone.

    Returns:
        The seconds, 0.0 when the interval lies outside business hours.
    """
    if end <= start:
        return 0.0
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(hours.timezone).date()
    last = end.astimezone(hours.timezone).date()
    total = 0.0
    while day <= last:
        opening = _opening(day, hours)
        if opening is not None:
            opens, closes = opening
            overlap = (min(end_utc, closes) - max(start_utc, opens)).total_seconds()
            total += max(overlap, 0.0)
        day += timedelta(days=1)
    return total


@functools.lru_cache(maxsize=8192)
def _opening(day: date, hours: BusinessHours) -> tuple[datetime, datetime] | None:
    """When ``day`` opens and closes (UTC), ``None`` on a closed day: computed once a day
    (a report's tickets share their days; time-zone arithmetic is the costly part)."""
    if day.weekday() not in hours.days:
        return None
    zone = hours.timezone
    opens = datetime.combine(day, hours.opens, tzinfo=zone).astimezone(UTC)
    if hours.closes is END_OF_DAY:  # "24:00": the next day's midnight
        closes = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    else:
        closes = datetime.combine(day, hours.closes, tzinfo=zone)
    return opens, closes.astimezone(UTC)
