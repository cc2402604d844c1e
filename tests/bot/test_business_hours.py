"""Business hours: what the bot promises depends on them, so a typo must stop the start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.settings.hours import BusinessHours


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
