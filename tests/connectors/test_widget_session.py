"""Which pages may use the widget's channel: origins spelled as browsers send them, the demo
page's always, loopback under both names, and a clear error for anything that is no origin."""

from __future__ import annotations

import re

import pytest

from bot.settings import Settings
from connectors.widget_session import origin_list, web_origin, widget_origins


@pytest.mark.parametrize(
    ("written", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.COM/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://shop.example.com:80", "http://shop.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_an_origin_is_spelled_as_browsers_send_it(written, origin):
    assert web_origin(written) == origin


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/page",
        "https://shop.example.com?x=1",
        "https://user@shop.example.com",
        "https://shop.example.com:99999",
        "https://",
        "null",
    ],
)
def test_anything_else_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="is not an origin"):
        web_origin(bad)


def test_the_demo_pages_origin_comes_first_and_loopback_under_both_names():
    assert widget_origins("https://shop.example.com", "http://127.0.0.1:8000") == [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "https://shop.example.com",
    ]
    assert widget_origins("", "") == []
    assert origin_list(" https://a.example ,, https://b.example ") == [
        "https://a.example",
        "https://b.example",
    ]


def test_a_bad_cors_setting_stops_the_start_naming_the_entry():
    with pytest.raises(ValueError, match=re.escape("'https://shop.example.com/path' is not an")):
        Settings(cors_allowed_origins="https://ok.example, https://shop.example.com/path")
    settings = Settings(cors_allowed_origins="https://Shop.example.com/, http://m.example:8080")
    assert settings.rasa.environment()["CORS_ALLOWED_ORIGINS"] == (
        "https://shop.example.com,http://m.example:8080"
    )
