"""Business hours: what the bot promises depends on them, so a typo must stop the start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.settings.hours import BusinessHours, BusinessHoursError


@pytest.mark.parametrize(
    ("spec", "at", "open_"),
    [
        ("Mon-Fri 09:00-18:00", datetime(2026, 11, 24, 3, 0, tzinfo=UTC), True),  # Tue 11:00
        ("Mon-Fri 09:00-18:00", datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False),  # Saturday
        ("09:00-21:00", datetime(2026, 11, 28, 14, 0, tzinfo=UTC), False),  # 22:00 Shanghai
        ("Sat-Sun 10:00-16:00", datetime(2026, 11, 29, 3, 0, tzinfo=UTC), True),  # Sun 11:00
    ],
)
def test_open_hours_in_the_shops_time_zone(spec, at, open_):
    assert BusinessHours.parse(spec, "Asia/Shanghai").is_open(at) is open_


@pytest.mark.parametrize(
    "settings",
    [
        {"business_hours": "9-5"},
        {"business_hours": "Mon-Fri 18:00-09:00"},
        {"business_hours": "Funday 09:00-18:00"},
        {"business_timezone": "Mars/Base"},
    ],
)
def test_unreadable_business_hours_are_refused_at_start(settings):
    with pytest.raises(ValidationError, match="BUSINESS_HOURS / BUSINESS_TIMEZONE"):
        Settings(**settings)


def test_a_shop_open_round_the_clock_is_never_closed():
    hours = BusinessHours.parse("00:00-24:00", "Asia/Shanghai")
    last_second = datetime(2026, 12, 1, 15, 59, 30, tzinfo=UTC)  # 23:59:30 in Shanghai
    midnight = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert hours.is_open(last_second) and hours.is_open(midnight)


def test_a_day_ends_at_24_00_and_no_later():
    with pytest.raises(BusinessHoursError):
        BusinessHours.parse("09:00-24:30", "Asia/Shanghai")
