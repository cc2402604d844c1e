"""The console's dashboard in real Chromium: it renders with data, and a filter changes it.

The dashboard needs the web service only (no Rasa, no action server): it runs alone, started
as the assistant starts it (:func:`bot.runtime.processes.web_server`), on a SQLite database
with two datasets: the insights dataset (:mod:`tests.support.insights_dataset`, March 2026,
whose figures the metric tests work out), for what the test asserts; and six busy weeks up to
yesterday (:func:`busy_weeks`), for the default view and the screenshots. With
``SCREENSHOTS_DIR`` set, the test saves ``dashboard.png``, ``dashboard-zh.png`` (its top, in
Chinese) and ``gaps.png`` (the knowledge gaps of the same weeks) there, 1280 px wide.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.web.console.dashboard import DEFAULT_DAYS
from testkit.agents import add_agent, unique_username
from testkit.customers import PASSWORD
from tests.integration.conftest import copy_faq_index, lone_web_service
from tests.support.insights_dataset import Seed, seed

pytestmark = pytest.mark.integration

WEEKS = 6
# Questions the FAQ does not answer, which customers keep asking: the gap page groups them.
GAP_QUESTIONS = [
    ("en", "Do you sell gift cards?"),
    ("zh", "你们有礼品卡吗？"),
    ("en", "Can I buy a gift card for a friend?"),
    ("en", "Do you deliver to Antarctica?"),
    ("zh", "礼品卡在哪里买？"),
    ("en", "Can you ship my order to Antarctica?"),
    ("en", "Where can I buy a gift voucher?"),
    ("zh", "可以寄到南极吗？"),
]
# Entries of the FAQ in data/faq that the busy weeks' customers are answered with.
ANSWERS = [
    ("order_track", "Where is my order?", "我的订单到哪了？"),
    ("return_refund_time", "How long does a refund take?", "退款多久能到账？"),
    ("account_password_reset", "I forgot my password", "忘记密码怎么办？"),
]
CHANNELS = ("socketio", "wechat", "rest", "socketio")


def conversations_per_day(day_number: int) -> int:
    """A few more customers each fortnight."""
    return 3 + (day_number * 7) % 5 + day_number // 14


def busy_day(day_number: int, today: date) -> date:
    return today - timedelta(days=7 * WEEKS - day_number)


async def busy_weeks(sessions, today, zone: ZoneInfo) -> None:
    """:data:`WEEKS` weeks of customers up to yesterday, varied by a fixed rule (no chance):
    answers (mostly helpful), "did not help" and requests for a person handed to Ann or Bob
    (yesterday's still wait), questions the FAQ does not answer."""
    async with sessions() as session, session.begin():
        s = Seed(session, key_prefix="busy")
        agents = [await s.agent("ann", "Ann"), await s.agent("bob", "Bob")]
        regulars = []
        last_day = 7 * WEEKS - 1
        for day_number in range(7 * WEEKS):
            day = busy_day(day_number, today)
            opening = datetime.combine(day, time(9), tzinfo=zone)
            for i in range(conversations_per_day(day_number)):
                at = opening + timedelta(minutes=47 * i)
                n = day_number + i
                language = "zh" if i % 2 else "en"
                returning = regulars[i] if i < len(regulars) and i % 3 == 0 else None
                c, customer = await s.conversation(
                    f"busy-{day_number}-{i}", CHANNELS[i % 4], at, returning
                )
                if day_number == 0:
                    regulars.append(customer)
                entry, english, chinese = ANSWERS[day_number % len(ANSWERS)]
                asked = {
                    "text": chinese if language == "zh" else english,
                    "language": language,
                    "faq_decision": "answer",
                    "intent": "ask_question",
                    "faq_id": entry,
                }
                reply = timedelta(minutes=5 + 9 * (n % 7))
                handled = {
                    "assigned_agent_id": agents[i % 2].id,
                    "first_reply_at": at + reply,
                    "resolved_at": at + 2 * reply,
                    "rating_asked": at + 2 * reply,
                    "satisfaction": 1 + (day_number + 2 * i) % 5,
                }
                kind = n % 6
                if kind <= 2:  # answered; two in three times "that helped"
                    await s.say(c, at, **asked)
                    if kind < 2:
                        verdict = {"faq_id": entry, "language": language}
                        await s.say(c, at + timedelta(minutes=1), feedback="helpful", **verdict)
                elif kind == 3:  # "did not help": to people
                    await s.say(c, at, **asked)
                    await s.say(c, at, feedback="not_helpful", faq_id=entry, language=language)
                    await s.ticket(c, "not_helpful", at, **handled)
                elif kind == 4:  # not found, and on odd days handed over
                    gap_language, gap = GAP_QUESTIONS[n % len(GAP_QUESTIONS)]
                    await s.say(c, at, text=gap, language=gap_language, faq_decision="escalate")
                    if day_number % 2:
                        await s.ticket(c, "not_found", at, question=gap, **handled)
                else:  # asks for a person
                    await s.say(c, at, text="人工客服", language=language, intent="request_human")
                    if day_number == last_day:
                        handled = {
                            "assigned_agent_id": handled["assigned_agent_id"],
                            "status": "assigned",
                        }
                    await s.ticket(c, "requested", at, **handled)


async def seeded(database_url: str, build) -> None:
    """The database at ``database_url`` with what ``build(sessions)`` adds."""
    engine = create_engine(database_url)
    try:
        await build(session_factory(engine))
    finally:
        await engine.dispose()


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[Settings]:
    """The web service alone, on a database with both datasets and a copy of the FAQ index
    (the gap page reads it; nothing of this test reaches the shared one)."""
    work = tmp_path_factory.mktemp("dashboard")
    index_dir = copy_faq_index(work)
    settings = Settings(
        # Not TEST_WEB_PORT: the shared assistant's web service may be listening there.
        web_port=free_port(),
        rasa_port=free_port(),  # never started
        rasa_api_token=uuid.uuid4().hex,
        run_dir=work / "run",
        database_url=f"sqlite:///{work / 'app.db'}",
    )
    zone = ZoneInfo(settings.handoff.business_timezone)
    today = datetime.now(zone).date()
    asyncio.run(upgrade(settings.database.database_url))
    asyncio.run(seeded(settings.database.database_url, lambda s: busy_weeks(s, today, zone)))
    with lone_web_service(settings, index_dir):
        yield settings


@pytest.fixture()
async def page(web: Settings, browser):
    """A Chromium page, 1280 px wide, signed in to the console as an admin."""
    username = await add_agent(
        web.database.database_url, unique_username("zhao"), "Zhao Lei", PASSWORD, role="admin"
    )
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{web.servers.web_url}/console/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Zhao Lei (admin)").wait_for()
    return page


async def figure(page, key: str) -> str:
    return (await page.locator(f"#card-{key} .value").inner_text()).strip()


async def test_the_dashboard_renders_and_a_filter_changes_it(web: Settings, page):
    web_url = web.servers.web_url
    await page.locator("#nav-dashboard").click()
    await page.wait_for_url("**/console/dashboard")
    await page.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    # The busy weeks, by default: charts drawn from data, the worst entries with their texts.
    today = datetime.now(ZoneInfo(web.handoff.business_timezone)).date()
    busy = sum(
        conversations_per_day(day_number)
        for day_number in range(7 * WEEKS)
        if (today - busy_day(day_number, today)).days < DEFAULT_DAYS
    )
    assert await figure(page, "conversations") == str(busy)
    assert await page.locator("#chart-box-conversations rect.bar").count() == 30
    assert await page.locator("#worst-entries tr[data-entry]").count() >= 2
    assert int(await figure(page, "waiting")) >= 1
    screenshots = os.environ.get("SCREENSHOTS_DIR")
    if screenshots:
        Path(screenshots).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{screenshots}/dashboard.png", full_page=True)

    # The dataset of the metric tests, in the form: the figures they work out.
    await seeded(web.database.database_url, seed)
    await page.get_by_label("From", exact=True).fill("2026-03-02")
    await page.get_by_label("To", exact=True).fill("2026-03-03")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/console/dashboard?*from=2026-03-02*")
    assert await figure(page, "conversations") == "7"
    assert await figure(page, "bot-resolution") == "28.6%"
    await page.get_by_label("Channel").select_option("wechat")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**channel=wechat**")
    assert await figure(page, "conversations") == "2"  # C3 and C6
    assert await figure(page, "bot-resolution") == "0.0%"
    assert await page.locator("#download-csv").get_attribute("href") == (
        "/api/insights/export.csv?from=2026-03-02&to=2026-03-03&group=day&channel=wechat"
    )

    # In Chinese, the FAQ's Chinese texts drawn (the wqy font).
    await page.goto(f"{web_url}/console/dashboard?lang=zh")
    await page.get_by_role("heading", name="数据看板").wait_for()
    worst = await page.locator("#worst-entries").inner_text()
    assert "我的订单到哪了？" in worst and "退款多久能到账？" in worst
    if screenshots:
        await page.screenshot(path=f"{screenshots}/dashboard-zh.png")

    if screenshots:
        # The first page of gaps loads the embedding model and embeds every question: slow.
        await page.goto(f"{web_url}/console/gaps", timeout=300_000)
        await page.locator("#gaps li.gap").first.wait_for()
        await page.set_viewport_size({"width": 1280, "height": 1400})  # the biggest groups
        await page.screenshot(path=f"{screenshots}/gaps.png")
