"""The shop's business hours, as ``BUSINESS_HOURS`` and ``BUSINESS_TIMEZONE`` give them.

``BUSINESS_HOURS`` reads like ``Mon-Fri 09:00-18:00`` or ``09:00-21:00`` (every day);
``00:00-24:00`` is round the clock.

>>> hours = BusinessHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")
>>> hours.is_open(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # 11:00 on a Tuesday in Shanghai
True
>>> hours.is_open(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))  # a Saturday
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# "24:00" as a closing time: open until midnight (``00:00-24:00``: round the clock).
END_OF_DAY = time.max
_SPEC = re.compile(
    r"^\s*(?:(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+)?"
    r"(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})\s*$",
    re.IGNORECASE,
)


class BusinessHoursError(ValueError):
    pass


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time
    timezone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, spec: str, timezone: str) -> BusinessHours:
        match = _SPEC.match(spec or "")
        if not match:
            raise BusinessHoursError(
                f"BUSINESS_HOURS {spec!r}: expected like 'Mon-Fri 09:00-18:00'"
            )
        first, last = (match["first"] or "mon").lower(), (match["last"] or "").lower()
        if first not in DAYS or (last and last not in DAYS):
            raise BusinessHoursError(f"BUSINESS_HOURS {spec!r}: days are Mon, Tue, ... Sun")
        start = DAYS.index(first)
        if match["first"] is None:
            days = frozenset(range(7))
        elif not last:
            days = frozenset({start})
        else:
            end = DAYS.index(last)
            days = frozenset((start + i) % 7 for i in range((end - start) % 7 + 1))
        try:
            opens = time.fromisoformat(f"{match['open']:0>5}")
            closes = (
                END_OF_DAY
                if match["close"] == "24:00"
                else time.fromisoformat(f"{match['close']:0>5}")
            )
        except ValueError as exc:
            raise BusinessHoursError(f"BUSINESS_HOURS {spec!r}: {exc}") from exc
        if opens >= closes:
            raise BusinessHoursError(f"BUSINESS_HOURS {spec!r}: closing must come after opening")
        return cls(days, opens, closes, ZoneInfo(timezone), spec.strip())

    def is_open(self, at: datetime | None = None) -> bool:
        local = (at or datetime.now(UTC)).astimezone(self.timezone)
        now = local.time()
        before_closing = now <= self.closes if self.closes is END_OF_DAY else now < self.closes
        return local.weekday() in self.days and self.opens <= now and before_closing
