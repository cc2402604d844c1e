"""The widget in Traditional Chinese: its strings, how it reads a page's language, the demo page,
and what Chromium shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.web.app import create_app
from faq_index.chinese import Script, detect_script, to_traditional
from testkit.customers import CHROMIUM, CHROMIUM_ARGS
from vocabulary import locale_from_tag

WIDGET = Path(__file__).resolve().parents[3] / "bot" / "web" / "widget" / "static" / "widget.js"
TAGS = ["zh", "zh-CN", "zh-Hans", "zh-Hans-HK", "zh-TW", "zh_TW", "zh-Hant", "zh-Hant-TW"]
TAGS += ["zh-HK", "zh-Hant-HK", "zh-MO", "ZH-hk", "en", "en-US", "fr", ""]

# Runs widget.js's own string table and locale rule, outside a browser.
READ_WIDGET = r"""
const src = require("fs").readFileSync(process.argv[1], "utf8");
const grab = (re) => { const m = src.match(re); if (!m) throw new Error(String(re)); return m[0]; };
const localeOf = new Function(grab(/function localeOf\(tag\) \{[\s\S]*?\n  \}/) + "\nreturn localeOf;")();
const table = grab(/const TEXT = \{[\s\S]*?\n  \}\[lang\];/).slice("const TEXT = ".length, -"[lang];".length);
const TEXT = new Function("data", `return (${table});`)({});
console.log(JSON.stringify({ TEXT, locales: JSON.parse(process.argv[2]).map(localeOf) }));
"""


@pytest.fixture(scope="module")
def widget() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on the PATH to run widget.js's string table")
    done = subprocess.run(
        [node, "-e", READ_WIDGET, str(WIDGET), json.dumps(TAGS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_widget_has_strings_for_every_locale(widget):
    table = widget["TEXT"]
    assert set(table) == {"en", "zh", "zh-TW", "zh-HK"}
    assert all(set(strings) == set(table["en"]) for strings in table.values())


@pytest.mark.parametrize("locale", ["zh-TW", "zh-HK"])
def test_the_traditional_strings_are_opencc_conversions_of_the_simplified_ones(widget, locale):
    table = widget["TEXT"]
    assert table[locale] == {key: to_traditional(text, locale) for key, text in table["zh"].items()}
    assert any(detect_script(text) is Script.TRADITIONAL for text in table[locale].values())


def test_the_widget_reads_a_pages_language_as_the_bot_does(widget):
    assert widget["locales"] == [locale_from_tag(tag) or "en" for tag in TAGS]


@pytest.fixture()
async def web(database_url):
    settings = Settings(database_url=database_url, identity_secret="s" * 32, rasa_port=1)
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


@pytest.mark.parametrize(
    ("asked", "locale"),
    [("zh-TW", "zh-TW"), ("zh-Hant-HK", "zh-HK"), ("zh", "zh"), ("en", "en"), ("<x>", "en")],
)
async def test_the_demo_page_takes_a_locale(web, asked, locale):
    response = await web.get("/demo", params={"lang": asked})
    page = await response.text()
    assert response.status == 200
    assert f'<html lang="{locale}">' in page and f'data-lang="{locale}"' in page
    assert "<x>" not in page


@pytest.mark.parametrize(
    ("locale", "placeholder", "person", "send"),
    [
        ("zh-TW", "請輸入您的問題…", "轉人工客服", "傳送"),
        ("zh-HK", "請輸入您的問題…", "轉人工客服", "發送"),
        ("zh", "请输入您的问题…", "转人工客服", "发送"),
    ],
)
async def test_chromium_shows_the_widget_in_the_pages_locale(
    web, locale, placeholder, person, send
):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(str(web.make_url(f"/demo?lang={locale}")))
            await page.locator(".sa-bubble").click()
            await page.locator(".sa-panel").wait_for()
            assert await page.locator(".sa-root").get_attribute("lang") == locale
            assert await page.locator(".sa-input").get_attribute("placeholder") == placeholder
            assert await page.locator(".sa-person").inner_text() == person
            assert await page.locator(".sa-send").inner_text() == send
        finally:
            await browser.close()
