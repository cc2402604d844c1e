"""The website widget in real Chromium, on the demo shop page, against the real servers."""

from __future__ import annotations

import asyncio
import os
import re

import pytest

from connectors.widget_session import widget_sender_id
from faq_index import load_index
from tests.integration.conftest import Assistant

pytestmark = pytest.mark.integration


@pytest.fixture()
async def page(assistant: Assistant, browser):
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: message.type == "error" and errors.append(message.text),
    )
    page.errors = errors
    return page


async def open_widget(page, assistant: Assistant, lang: str = "en") -> None:
    await page.goto(f"{assistant.settings.servers.web_url}/demo?lang={lang}")
    await page.locator(".sa-bubble").click()
    await page.locator(".sa-panel").wait_for()


async def ask(page, text: str) -> None:
    await page.locator(".sa-input").fill(text)
    await page.locator(".sa-input").press("Enter")


def faq():
    return load_index(os.environ["FAQ_INDEX_DIR"])


async def test_english_and_chinese_questions_get_their_answers(page, assistant: Assistant):
    await open_widget(page, assistant)
    await ask(page, "How can I track my package?")
    english = faq().entry("order_track").texts["en"].answer
    await page.locator(".sa-bot", has_text=english[:40]).wait_for()
    await ask(page, "退款一般多久能到账？")
    chinese = faq().entry("return_refund_time").texts["zh"].answer
    await page.locator(".sa-bot", has_text=chinese[:20]).wait_for()
    assert page.errors == []  # nothing broke under the demo page's strict CSP


async def test_a_clarification_button_answers_the_chosen_entry(page, assistant: Assistant):
    await open_widget(page, assistant)
    await ask(page, "coupon")
    choices = page.locator(".sa-choice")
    await choices.first.wait_for()
    picked = await choices.nth(1).inner_text()
    await choices.nth(1).click()
    entry = next(e for e in faq().entries if e.texts["en"].questions[0] == picked)
    await page.locator(".sa-bot", has_text=entry.texts["en"].answer[:40]).wait_for()


async def test_a_reload_keeps_the_conversation(page, assistant: Assistant):
    asked = []
    page.on("request", lambda r: "/api/widget/history" in r.url and asked.append(r))
    await open_widget(page, assistant)
    await ask(page, "How do I reset my password?")
    await page.locator(".sa-bot").first.wait_for()
    await page.wait_for_timeout(1500)  # ingestion has stored the turn by now (p95 0.2 s)
    await page.reload()
    await page.locator(".sa-panel").wait_for()  # the widget remembers it was open
    await page.locator(".sa-customer", has_text="How do I reset my password?").wait_for()
    await page.locator(".sa-bot").first.wait_for()
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('shopAssistant.sessionId'))")
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)  # 128 random bits
    # The secret travels in the body of a POST, never in a URL (history, proxies' logs).
    assert asked and all(r.method == "POST" for r in asked)
    assert all(session_id not in r.url and "?" not in r.url for r in asked)
    assert asked[-1].post_data_json == {"session_id": session_id}


async def test_a_reload_keeps_the_customers_choices_and_the_buttons_to_answer(
    page, assistant: Assistant
):
    await open_widget(page, assistant)
    await ask(page, "coupon")
    offered = page.locator(".sa-choice")
    await offered.first.wait_for()
    titles = await offered.all_inner_texts()
    await page.wait_for_timeout(1500)  # ingestion has stored the turn by now
    await page.reload()
    # The question is still the last message: its buttons are the way to answer it.
    await page.locator(".sa-customer", has_text="coupon").wait_for()
    await offered.first.wait_for()
    assert await offered.all_inner_texts() == titles
    picked = titles[1]
    await offered.nth(1).click()
    entry = next(e for e in faq().entries if e.texts["en"].questions[0] == picked)
    await page.locator(".sa-bot", has_text=entry.texts["en"].answer[:40]).wait_for()
    await page.wait_for_timeout(1500)
    await page.reload()
    # The choice shows as the customer made it; the answered question has no buttons left.
    await page.locator(".sa-customer", has_text=picked).wait_for()
    assert await page.locator(".sa-customer", has_text="/choose").count() == 0
    question = page.locator(".sa-msg", has=page.locator(".sa-choice", has_text=picked))
    assert await question.count() == 0


async def test_customer_html_is_shown_as_text(page, assistant: Assistant):
    await open_widget(page, assistant)
    attack = '<img src=x onerror="window.pwned=1">hello'
    await ask(page, attack)
    await page.locator(".sa-customer", has_text=attack).wait_for()
    await page.locator(".sa-bot").first.wait_for()
    assert await page.locator(".sa-root img").count() == 0
    assert await page.evaluate("window.pwned") is None


async def test_the_history_is_only_for_the_holder_of_the_conversation_id(assistant: Assistant):
    import json
    import urllib.error
    import urllib.request

    base = f"{assistant.settings.servers.web_url}/api/widget/history"

    def post(body: dict) -> dict:
        request = urllib.request.Request(
            base, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    with pytest.raises(urllib.error.HTTPError) as bad:
        post({"session_id": "guess"})
    assert bad.value.code == 400
    assert post({"session_id": "0" * 32}) == {"messages": []}
    with pytest.raises(urllib.error.HTTPError) as in_url:  # the old form: the secret in the URL
        urllib.request.urlopen(f"{base}?session_id={'0' * 32}", timeout=10)
    assert in_url.value.code == 400
    assert "must not be in the URL" in json.loads(in_url.value.read())["error"]


async def test_asking_for_a_person_brings_the_agents_reply_with_their_name(
    page, assistant: Assistant
):
    from testkit.agents import add_agent
    from tests.integration.test_handoff import PASSWORD, Console

    await add_agent(assistant.settings.database.database_url, "li.na", "Li Na", PASSWORD)

    await open_widget(page, assistant)
    await page.get_by_role("button", name="Talk to a person").click()
    opened = page.locator(".sa-bot", has_text="I've passed this to our team (ticket ")
    await opened.wait_for()
    ticket_id = re.search(r"ticket (\d+)", await opened.inner_text())[1]

    console = await asyncio.to_thread(Console, assistant.settings.servers.web_url, "li.na")
    reply = "Hello, this is Li Na. How can I help?"
    await asyncio.to_thread(
        console.call, "POST", f"/api/tickets/{ticket_id}/reply", {"text": reply}
    )
    message = page.locator(".sa-msg.sa-agent", has_text=reply)
    await message.wait_for(timeout=20_000)
    assert "Li Na" in await message.locator(".sa-agent").inner_text()


ARTIFACTS = os.environ.get("TEST_ARTIFACTS", "var/artifacts")


async def test_keyboard_only_use_and_screenshots_of_both_layouts(page, assistant: Assistant):
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{assistant.settings.servers.web_url}/demo?lang=zh")
    await page.keyboard.press("Tab")  # the page's own links first, then the bubble
    for _ in range(10):
        if await page.evaluate("document.activeElement.className") == "sa-bubble":
            break
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('aria-label')") == "打开聊天"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.className") == "sa-input"
    await page.keyboard.type("怎么查物流？")
    await page.keyboard.press("Enter")
    await page.locator(".sa-bot").first.wait_for()
    os.makedirs(ARTIFACTS, exist_ok=True)
    await page.screenshot(path=f"{ARTIFACTS}/widget-desktop.png")
    await page.keyboard.press("Escape")
    assert await page.locator(".sa-panel").is_hidden()

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.locator(".sa-bubble").click()
    box = await page.locator(".sa-panel").bounding_box()
    assert box["width"] == 390  # the panel takes the whole screen
    await page.screenshot(path=f"{ARTIFACTS}/widget-phone.png")


async def test_messages_typed_offline_are_sent_once_in_order_back_online(
    page, assistant: Assistant
):
    await open_widget(page, assistant)
    await ask(page, "hello")
    await page.locator(".sa-bot").first.wait_for()
    await page.context.set_offline(True)
    typed = ["How do I reset my password?", "Which payment methods do you accept?"]
    for text in typed:
        await ask(page, text)
    await page.locator(".sa-status", has_text="Offline").wait_for(timeout=20_000)
    await page.context.set_offline(False)
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('shopAssistant.sessionId'))")

    def said() -> list[str]:
        events = assistant.tracker(widget_sender_id(session_id))["events"]
        return [e["text"] for e in events if e["event"] == "user" and e["text"] in typed]

    deadline = asyncio.get_running_loop().time() + 30
    while said() != typed:
        assert asyncio.get_running_loop().time() < deadline, f"Rasa got {said()}"
        await asyncio.sleep(0.5)
    await page.wait_for_timeout(2000)  # and nothing more arrives later
    assert said() == typed  # each once, in order


def test_the_widgets_own_code_is_small():
    import gzip
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "bot" / "web" / "widget" / "static"
    size = sum(len(gzip.compress((static / n).read_bytes())) for n in ("widget.js", "widget.css"))
    assert size <= 50 * 1024, f"{size} bytes gzipped"
