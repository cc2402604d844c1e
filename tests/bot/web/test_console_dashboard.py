"""``GET /console/dashboard`` on the insights dataset (:mod:`tests.support.insights_dataset`):
the figures and their changes, who sees which agent rows, bad filters, escaping, and the page's
language. On both databases.

The dataset's Monday (2 March 2026) and Tuesday, as the metric tests work them out: Monday has 6
conversations (5 new customers, 1 returning), 1 resolved by the bot and 3 handed over of 6 with
questions; Tuesday 2 (1 new, 1 returning), 1 and 1 of 2.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.domain.faq_texts import FaqTexts
from bot.store.models import FaqAddition
from tests.bot.conftest import sign_in
from tests.support.insights_dataset import seed

PAGE = "/console/dashboard"
BOTH_DAYS = "from=2026-03-02&to=2026-03-03"
HOSTILE_QUESTION = '退款多久到账？<img src=x onerror="alert(1)">'


def card(html: str, key: str) -> tuple[str, str]:
    """The value and the change a number card shows."""
    found = re.search(
        rf'id="card-{key}">\s*<h2>[^<]*</h2>\s*<p class="value">([^<]*)</p>\s*'
        r'<p class="change[^"]*">(?:<span[^>]*>[^<]*</span>)?([^<]*)</p>',
        html,
    )
    assert found, f"no card {key}"
    return found[1], found[2]


def agent_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-agent="([^"]+)">', html)


async def dashboard(client, query: str = BOTH_DAYS, status: int = 200, **headers) -> str:
    response = await client.get(f"{PAGE}?{query}", headers=headers, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text
    return text


async def test_without_a_session_the_sign_in_form(client):
    response = await client.get(PAGE, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/console/login"


async def test_the_figures_of_a_day_against_the_day_before(client, sessions):
    await seed(sessions)
    await sign_in(client, "bob")
    html = await dashboard(client, "from=2026-03-03&to=2026-03-03")
    assert (
        "2026-03-03 to 2026-03-03 (Asia/Shanghai), compared with 2026-03-02 to 2026-03-02" in html
    )
    assert card(html, "conversations") == ("2", "−4 (−67%)")
    assert card(html, "new-customers") == ("1", "−4 (−80%)")
    assert card(html, "returning-customers") == ("1", "±0")
    assert card(html, "bot-resolution") == ("50.0%", "+33.3 pts")  # Monday: 1 of 6
    assert card(html, "handoff") == ("50.0%", "±0")  # 3 of 6, 1 of 2
    assert 'class="change up better"' in html  # the bot resolved more: for the better
    # Tuesday's ticket has no reply yet; Monday's had 30 min and 16 h.
    assert card(html, "first-response") == ("none", "nothing to compare")


async def test_the_figures_of_the_range(client, sessions):
    await seed(sessions)
    await sign_in(client, "ann")
    html = await dashboard(client)
    assert card(html, "conversations") == ("7", "+7")  # nothing the two days before
    assert card(html, "bot-resolution") == ("28.6%", "nothing to compare")
    assert card(html, "handoff")[0] == "57.1%"
    assert card(html, "first-response")[0] == "8 h 15 min"  # the median of 30 min and 16 h
    assert card(html, "satisfaction")[0] == "3.0"
    assert "2 ratings of 3 asked" in html
    assert card(html, "waiting")[0] == "1"  # the complaint, open since March
    assert re.fullmatch(r"\d+ d \d+ h", card(html, "longest-wait")[0])
    # The charts: a bar a day, and their figures in text.
    conversations = html.split('id="chart-box-conversations"')[1].split("</figure>")[0]
    heights = [
        float(h) for h in re.findall(r'<rect class="bar"[^>]* height="([0-9.]+)"', conversations)
    ]
    assert len(heights) == 2 and heights[0] / heights[1] == pytest.approx(3)  # 6 and 2
    assert '<desc id="chart-conversations-desc">03-02: 6; 03-03: 2</desc>' in html
    assert "<td>2026-03-02</td><td>6</td><td>6</td>" in html
    reasons = html.split('id="chart-box-reasons"')[1].split("</figure>")[0]
    assert "Complaint: 1" in reasons and "<td>25.0%</td>" in reasons
    assert "1: 0; 2: 1; 3: 0; 4: 1; 5: 0" in html  # the ratings 1-5
    # The worst entries: refund_time ("did not help", then a handoff), then invoice (a handoff).
    assert re.findall(r'<tr data-entry="([^"]+)">', html) == ["refund_time", "invoice"]
    assert "(not in the FAQ now)" in html
    assert 'href="/api/insights/export.csv?from=2026-03-02&amp;to=2026-03-03&amp;group=day"' in html


async def test_the_first_days_have_no_previous_period(client):
    await sign_in(client, "bob")
    html = await dashboard(client, "from=2000-01-01&to=2000-01-07")
    assert "2000-01-01 to 2000-01-07 (Asia/Shanghai)</p>" in html
    assert card(html, "conversations") == ("0", "nothing to compare")


async def test_a_filter_changes_the_figures(client, sessions):
    await seed(sessions)
    await sign_in(client, "bob")
    html = await dashboard(client, f"{BOTH_DAYS}&channel=wechat&group=week")
    assert card(html, "conversations")[0] == "2"  # C3 and C6
    assert card(html, "bot-resolution")[0] == "0.0%"
    assert '<option value="wechat" selected>' in html
    assert '<option value="week" selected>' in html
    assert "channel=wechat" in html.split('id="download-csv"')[1].split(">")[0]


async def test_an_agent_sees_their_own_row_and_an_admin_every_agent(client, sessions):
    ids = await seed(sessions)
    await sign_in(client, "bob")
    html = await dashboard(client)
    assert agent_rows(html) == ["bob"]
    assert 'name="agent"' not in html  # agents filter by nobody else
    await dashboard(client, f"{BOTH_DAYS}&agent={ids['ann']}", status=403)
    mine = await dashboard(client, f"{BOTH_DAYS}&agent={ids['bob']}")
    assert card(mine, "satisfaction")[0] == "3.0"  # ratings 4 and 2, both Bob's
    await sign_in(client, "ann")
    html = await dashboard(client)
    assert agent_rows(html) == ["ann", "bob"]
    assert f'<option value="{ids["bob"]}" lang="">Bob (bob)</option>' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01&to=2026-03-03", "from is not a date"),
        ("from=2026-03-04&to=2026-03-03", "is after"),
        ("from=2020-01-01&to=2026-03-03", "at most 731 days"),
        ("from=9999-12-29&to=9999-12-31", "dates are between"),
        (f"{BOTH_DAYS}&group=month", "group is one of"),
        (f"{BOTH_DAYS}&channel=fax", "channel is one of widget, wechat, other"),
        (f"{BOTH_DAYS}&language=fr", "language is one of"),
        (f"{BOTH_DAYS}&agent=bob", "agent must be a whole number"),
        (f"{BOTH_DAYS}&lang=fr", "lang is one of en, zh"),
        ("from=2026-03-02%00&to=2026-03-03", "not allowed"),
    ],
)
async def test_bad_filters_are_a_400_that_says_why(client, query, message):
    await sign_in(client, "bob")
    assert message in await dashboard(client, query, status=400)


async def test_faq_texts_are_escaped(client, sessions):
    await seed(sessions)
    async with sessions() as session, session.begin():
        session.add(
            FaqAddition(
                entry_id="refund_time",
                kind="entry",
                language="zh",
                question=HOSTILE_QUESTION,
                answer="1-7 个工作日。",
                created_at=datetime.now(UTC),
            )
        )
    await sign_in(client, "bob")
    html = await dashboard(client)
    assert "<img src=x" not in html
    assert (
        '<span class="question" lang="zh-CN">退款多久到账？&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</span>'
        in html
    )


async def test_the_page_speaks_the_agent_s_language_unless_told(client, sessions):
    await seed(sessions)
    await sign_in(client, "bob", accept_language="zh-CN,zh;q=0.9,en;q=0.8")
    html = await dashboard(client, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<div class="dashboard" lang="zh-CN">' in html
    assert "<h1>数据看板</h1>" in html and "<h2>会话</h2>" in html
    assert card(html, "first-response")[0] == "8 小时 15 分钟"
    assert "简体中文 (zh)" in html and "繁體中文（台灣） (zh-TW)" in html  # the language filter
    told = await dashboard(client, f"{BOTH_DAYS}&lang=en", **{"Accept-Language": "zh-CN"})
    assert "<h1>Dashboard</h1>" in told and '<input type="hidden" name="lang" value="en">' in told
    await sign_in(client, "ann", accept_language="en-GB,en;q=0.9")
    english = await dashboard(client, **{"Accept-Language": "zh-CN"})
    assert "<h1>Dashboard</h1>" in english and "数据看板" not in english


async def test_the_faq_is_read_again_only_when_it_changed(sessions, faq_dir):
    texts = FaqTexts()
    async with sessions() as session:
        first = await texts.entries(session, faq_dir)
        assert set(first) == {"order_track", "refund_time", "password_reset", "invoice"}
        assert await texts.entries(session, faq_dir) is first  # not read again
    async with sessions() as session, session.begin():
        session.add(
            FaqAddition(
                entry_id="gift_cards",
                kind="entry",
                language="en",
                question="Gift cards?",
                answer="Not yet.",
                created_at=datetime.now(UTC),
            )
        )
    async with sessions() as session:
        added = await texts.entries(session, faq_dir)
        assert "gift_cards" in added
        (faq_dir / "more.yml").write_text(
            "entries:\n  - id: opening_hours\n    category: shop\n"
            '    en:\n      questions: ["When are you open"]\n      answer: Always.\n',
            encoding="utf-8",
        )
        assert {"gift_cards", "opening_hours"} <= set(await texts.entries(session, faq_dir))
