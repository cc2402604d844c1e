"""The periods of a report: its whole range, or its days or weeks, as UTC instants.

A day is a calendar day in the business time zone, from local midnight to the next (23 or 25
hours on the days clocks change); a week runs from Monday to Sunday and is cut to the report's
dates, so the first and last weeks may be shorter. Each period is computed as if the report had
been asked for its dates alone.

Which period a stored instant falls in is decided by the database: :func:`period_of` is a
balanced ``CASE`` over the periods' edges (a few comparisons a row, the same SQL on SQLite and
PostgreSQL, no time-zone support needed from either).

>>> from zoneinfo import ZoneInfo
>>> from bot.domain.insights.filters import Grouping, InsightsFilter
>>> flt = InsightsFilter(date(2026, 2, 28), date(2026, 3, 3), Grouping.WEEK)
>>> [(p.first.isoformat(), p.last.isoformat()) for p in periods(flt, ZoneInfo("Asia/Shanghai"))]
[('2026-02-28', '2026-03-01'), ('2026-03-02', '2026-03-03')]
>>> whole(flt, ZoneInfo("Asia/Shanghai")).start.isoformat()
'2026-02-27T16:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, SQLColumnExpression, case, literal_column, null, or_

from bot.domain.insights.filters import Grouping, InsightsFilter


@dataclass(frozen=True)
class Period:
    """Calendar days ``first`` to ``last`` (inclusive): instants ``start`` <= t < ``end``."""

    first: date
    last: date
    start: datetime
    end: datetime


def local_midnight(day: date, timezone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``timezone``."""
    return datetime.combine(day, time(0), tzinfo=timezone).astimezone(UTC)


def _period(first: date, last: date, timezone: ZoneInfo) -> Period:
    return Period(
        first,
        last,
        local_midnight(first, timezone),
        local_midnight(last + timedelta(days=1), timezone),
    )


def whole(flt: InsightsFilter, timezone: ZoneInfo) -> Period:
    """The report's whole range as one period."""
    return _period(flt.start, flt.end, timezone)


def periods(flt: InsightsFilter, timezone: ZoneInfo) -> list[Period]:
    """The report's days or weeks, in order; the whole range when it is not grouped."""
    if flt.group is None:
        return [whole(flt, timezone)]
    found = []
    first = flt.start
    while first <= flt.end:
        if flt.group is Grouping.DAY:
            last = first
        else:
            last = min(first + timedelta(days=6 - first.weekday()), flt.end)
        found.append(_period(first, last, timezone))
        first = last + timedelta(days=1)
    return found


def period_of(
    column: SQLColumnExpression[Any], chosen: Sequence[Period]
) -> ColumnElement[int | None]:
    """SQL: the index in ``chosen`` (contiguous, in order) of the period ``column`` falls in;
    NULL outside them all, and for NULL."""

    def tree(low: int, high: int) -> ColumnElement[Any]:
        if high - low == 1:
            return literal_column(str(low), Integer)
        middle = (low + high) // 2
        return case((column < chosen[middle].start, tree(low, middle)), else_=tree(middle, high))

    outside = or_(column.is_(None), column < chosen[0].start, column >= chosen[-1].end)
    return case((outside, null()), else_=tree(0, len(chosen)))


def day_period_of(
    column: SQLColumnExpression[Any], chosen: Sequence[Period]
) -> ColumnElement[int | None]:
    """SQL: the index in ``chosen`` (contiguous, in order) of the period a calendar day
    ``column`` (a roll-up's ``day``) falls in; NULL outside them all."""

    def tree(low: int, high: int) -> ColumnElement[Any]:
        if high - low == 1:
            return literal_column(str(low), Integer)
        middle = (low + high) // 2
        return case((column < chosen[middle].first, tree(low, middle)), else_=tree(middle, high))

    outside = or_(column < chosen[0].first, column > chosen[-1].last)
    return case((outside, null()), else_=tree(0, len(chosen)))
