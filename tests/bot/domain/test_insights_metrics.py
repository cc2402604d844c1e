"""Insights on a hand-built dataset whose every figure is worked out below, on both databases.

The dataset (business hours Mon-Fri 09:00-18:00 in Shanghai, a report of Monday 2 and Tuesday
3 March 2026, eight conversations and what happens in each) is tabled in
:mod:`tests.support.insights_dataset`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.domain.insights import InsightsFilter, insights, parse_filter
from bot.domain.insights.business_time import business_seconds
from bot.domain.insights.filters import ChannelGroup, Grouping, InsightsError
from bot.settings.hours import BusinessHours
from tests.support.insights_dataset import HOURS, NOW, at, seed


async def report(sessions, start="2026-03-02", end="2026-03-03", **filters):
    async with sessions() as session:
        return await insights(session, parse_filter(start, end, **filters), HOURS, NOW)


def consistent(row) -> None:
    """What no row may ever say."""
    assert row["bot_resolved"] + row["handed_over"] <= row["conversations_with_questions"]
    assert row["conversations_with_questions"] <= row["conversations"]
    assert row["unresolved"] >= 0
    assert row["answered"] + row["clarified"] + row["not_found"] == row["questions"]
    assert row["helpful"] + row["not_helpful"] == row["answered_with_feedback"] <= row["answered"]
    assert sum(row["handoffs_by_reason"].values()) == row["handed_over"] <= row["tickets"]
    assert row["ratings"] <= row["ratings_asked"] <= row["tickets"]


async def test_the_figures_of_the_range(sessions):
    await seed(sessions)
    r = await report(sessions)
    consistent(r)
    assert r["conversations"] == 7  # C1..C7: C5 spans midnight and counts once
    assert r["conversations_with_questions"] == 7  # C7 asked for nothing searchable: a ticket
    assert r["handed_over"] == 4  # C2, C3 (resolved without a reply), C6, C7
    assert r["bot_resolved"] == 2  # C1, C5; not C3 although answered and never "not helpful"
    assert r["unresolved"] == 1  # C4, abandoned after the did-you-mean
    assert (r["bot_resolution_rate"], r["handoff_rate"]) == (0.2857, 0.5714)
    assert r["handoffs_by_reason"] == {
        "complaint": 1, "not_found": 1, "not_helpful": 1, "requested": 1,
    }  # fmt: skip
    assert (r["customers"], r["new_customers"], r["returning_customers"]) == (7, 6, 1)
    assert r["customer_messages"] == 13  # the follow event and the bot's and Bob's are not
    assert (r["questions"], r["answered"], r["clarified"], r["not_found"]) == (9, 4, 2, 3)
    assert r["clarification_choices"] == 1
    assert (r["answered_with_feedback"], r["helpful"], r["not_helpful"]) == (2, 1, 1)
    assert r["helpful_share"] == 0.5


async def test_ticket_times_in_wall_clock_and_business_hours(sessions):
    await seed(sessions)
    r = await report(sessions)
    assert r["tickets"] == 4
    assert r["tickets_by_reason"] == {
        "complaint": 1, "not_found": 1, "not_helpful": 1, "requested": 1,
    }  # fmt: skip
    assert (r["tickets_replied"], r["tickets_resolved"], r["tickets_active"]) == (2, 3, 1)
    assert (r["tickets_resolved_without_reply"], r["tickets_reopened"]) == (1, 1)
    # T1: 30 min; T3: Mon 17:30 to Tue 09:30 is 16 h, of which 17:30-18:00 and 09:00-09:30 count.
    assert r["first_response_seconds"] == {
        "count": 2, "mean": 29700.0, "median": 29700.0, "p90": 57600.0,
    }  # fmt: skip
    assert r["first_response_business_seconds"] == {
        "count": 2, "mean": 2700.0, "median": 2700.0, "p90": 3600.0,
    }  # fmt: skip
    # T1 1 h, T2 10 min, T3 18 h to its final resolution (3 h of them in business hours).
    assert r["resolution_seconds"] == {
        "count": 3, "mean": 23000.0, "median": 3600.0, "p90": 64800.0,
    }  # fmt: skip
    assert r["resolution_business_seconds"] == {
        "count": 3, "mean": 5000.0, "median": 3600.0, "p90": 10800.0,
    }  # fmt: skip
    # T4 opened Tue 10:00, nobody answered: two hours at noon, all of them in business hours.
    assert r["waiting_now"] == {
        "tickets": 1, "longest_wait_seconds": 7200.0, "longest_wait_business_seconds": 7200.0,
    }  # fmt: skip


async def test_satisfaction_overall_and_by_agent(sessions):
    ids = await seed(sessions)
    r = await report(sessions)
    # Asked: T1 and T2 (the request was delivered), T3 (rated, so it was asked); T4 is open.
    assert (r["ratings"], r["ratings_asked"], r["satisfaction_average"]) == (2, 3, 3.0)
    assert r["satisfaction_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    ann, bob = r["agents"]
    assert (ann["id"], ann["tickets"], ann["tickets_replied"], ann["ratings"]) == (
        ids["ann"],
        1,
        0,
        0,
    )
    assert ann["satisfaction_average"] is None and ann["ratings_asked"] == 1
    assert (bob["id"], bob["tickets"], bob["tickets_resolved"], bob["ratings"]) == (
        ids["bob"],
        2,
        2,
        2,
    )
    assert bob["satisfaction_average"] == 3.0


async def test_faq_entries(sessions):
    await seed(sessions)
    entries = {e["entry_id"]: e for e in (await report(sessions))["faq_entries"]}
    counted = ("answered", "clarification_choices", "helpful", "not_helpful", "handoffs_after")
    assert {k: tuple(e[c] for c in counted) for k, e in entries.items()} == {
        "invoice": (1, 0, 0, 0, 1),  # "a person" a minute after its answer
        "order_track": (1, 0, 1, 0, 0),  # C0's answer is before the range
        "password_reset": (1, 1, 0, 0, 0),
        "refund_time": (1, 0, 0, 1, 1),
    }


async def test_days_spanning_midnight(sessions):
    await seed(sessions)
    r = await report(sessions, group="day")
    monday, tuesday = r["series"]
    for row in r["series"]:
        consistent(row)
    assert (monday["from"], tuesday["to"]) == ("2026-03-02", "2026-03-03")
    # C5 is active on both days: once on each, once in the range.
    assert (monday["conversations"], tuesday["conversations"], r["conversations"]) == (6, 2, 7)
    assert (monday["bot_resolved"], monday["handed_over"], monday["unresolved"]) == (1, 3, 2)
    assert (tuesday["bot_resolved"], tuesday["handed_over"], tuesday["unresolved"]) == (1, 1, 0)
    assert (monday["answered"], monday["clarified"], monday["not_found"]) == (3, 1, 3)
    assert (tuesday["answered"], tuesday["clarified"], tuesday["not_found"]) == (1, 1, 0)
    assert (monday["customers"], monday["new_customers"], monday["customer_messages"]) == (6, 5, 10)
    assert (tuesday["customers"], tuesday["new_customers"], tuesday["customer_messages"]) == (
        2,
        1,
        3,
    )
    # Tickets belong to the day they were opened: T3 waited over the night, on Monday's account.
    assert (monday["tickets"], tuesday["tickets"]) == (3, 1)
    assert monday["first_response_business_seconds"]["p90"] == 3600.0
    assert tuesday["first_response_seconds"]["count"] == 0


async def test_each_row_is_the_report_of_its_own_dates(sessions):
    await seed(sessions)
    tuesday = (await report(sessions, group="day"))["series"][1]
    alone = await report(sessions, start="2026-03-03", end="2026-03-03")
    assert {k: v for k, v in alone.items() if k in tuesday} == tuesday


async def test_weeks_are_cut_to_the_range(sessions):
    await seed(sessions)
    r = await report(sessions, start="2026-02-28", group="week")
    before, week = r["series"]
    assert (before["from"], before["to"], before["conversations"]) == (
        "2026-02-28",
        "2026-03-01",
        0,
    )
    assert (week["from"], week["to"]) == ("2026-03-02", "2026-03-03")
    plain = await report(sessions)
    assert {k: v for k, v in plain.items() if k in week and k not in ("from", "to")} == {
        k: v for k, v in week.items() if k not in ("from", "to")
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # conversations, with questions, bot resolved, handed over, answered, not found, tickets
        ({"channel": "widget"}, (4, 4, 1, 2, 2, 0, 2)),  # C1, C2, C4, C7
        ({"channel": "wechat"}, (2, 2, 0, 2, 1, 2, 2)),  # C3, C6
        ({"channel": "other"}, (1, 1, 1, 0, 1, 1, 0)),  # C5 (REST)
        ({"language": "zh-TW"}, (1, 1, 0, 0, 0, 0, 0)),  # C4
        ({"language": "zh"}, (1, 1, 0, 1, 1, 0, 1)),  # C2 (C0 is zh too, but out of range)
    ],
)
async def test_filters_select_conversations(sessions, filters, expected):
    await seed(sessions)
    r = await report(sessions, **filters)
    consistent(r)
    keys = ("conversations", "conversations_with_questions", "bot_resolved", "handed_over")
    keys += ("answered", "not_found", "tickets")
    assert tuple(r[k] for k in keys) == expected


async def test_an_agent_filters_the_ticket_figures_only(sessions):
    ids = await seed(sessions)
    r = await report(sessions, agent_id=ids["bob"])
    assert (r["conversations"], r["handed_over"], r["answered"]) == (7, 4, 4)  # the bot's
    assert (r["tickets"], r["ratings"], r["satisfaction_average"]) == (2, 2, 3.0)
    assert [a["username"] for a in r["agents"]] == ["bob"]
    assert r["waiting_now"]["tickets"] == 0  # T4 is nobody's yet


async def test_an_empty_range(sessions):
    await seed(sessions)
    r = await report(sessions, start="2026-01-05", end="2026-01-11", group="week")
    consistent(r)
    assert (r["conversations"], r["tickets"], r["ratings"]) == (0, 0, 0)
    assert r["satisfaction_average"] is None and r["bot_resolution_rate"] is None
    assert r["first_response_seconds"] == {"count": 0, "mean": None, "median": None, "p90": None}


@pytest.mark.parametrize(
    ("start", "end", "hours", "seconds"),
    [
        ("03-02 18:00", "03-03 09:00", "Mon-Fri 09:00-18:00", 0),  # from closing to opening
        ("03-02 08:00", "03-02 09:30", "Mon-Fri 09:00-18:00", 1800),  # before opening
        ("03-06 17:00", "03-09 10:00", "Mon-Fri 09:00-18:00", 7200),  # over the weekend
        ("03-07 10:00", "03-07 11:00", "Mon-Fri 09:00-18:00", 0),  # Saturday
        ("03-02 10:00", "03-02 09:00", "Mon-Fri 09:00-18:00", 0),  # backwards
        ("03-02 20:00", "03-04 10:00", "09:00-21:00", 3600 + 12 * 3600 + 3600),
        ("03-02 23:00", "03-03 01:00", "00:00-24:00", 2 * 3600),  # round the clock
    ],
)
def test_business_seconds(start, end, hours, seconds):
    assert (
        business_seconds(at(start), at(end), BusinessHours.parse(hours, "Asia/Shanghai")) == seconds
    )


def test_business_seconds_across_a_clock_change():
    hours = BusinessHours.parse("01:00-05:00", "Europe/Berlin")  # clocks skip 02:00-03:00
    berlin = ZoneInfo("Europe/Berlin")
    start, end = (
        datetime(2026, 3, 29, 0, 0, tzinfo=berlin),
        datetime(2026, 3, 30, 0, 0, tzinfo=berlin),
    )
    assert business_seconds(start, end, hours) == 3 * 3600
    assert business_seconds(start.astimezone(UTC), end.astimezone(UTC), hours) == 3 * 3600


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("2026-03-02", "2026-03-01"), "is after"),
        (("2026-3-2", "2026-03-03"), "not a date"),
        (("", "2026-03-03"), "from is missing"),
        (("2026-03-02", "2026-03-03", "month"), "group is one of day, week"),
        (("2026-03-02", "2026-03-03", None, "email"), "channel is one of widget, wechat, other"),
        (("2026-03-02", "2026-03-03", None, None, "fr"), "language is one of"),
        (("2020-01-01", "2026-03-03"), "at most 731 days"),
        (("0001-01-01", "0001-01-03"), "between 2000-01-01 and 2999-12-31"),
    ],
)
def test_bad_filters_are_refused(arguments, message):
    with pytest.raises(InsightsError, match=message):
        parse_filter(*arguments)


def test_a_filter_can_be_built_directly():
    flt = InsightsFilter(date(2026, 3, 2), date(2026, 3, 8), Grouping.WEEK, ChannelGroup.WECHAT)
    assert flt.days == 7


async def test_on_postgresql_each_report_is_planned_for_its_own_dates(sessions):
    """The driver prepares statements, and after five runs PostgreSQL may choose a plan for any
    dates (on a quarter's roll-up, one took 44 s instead of 0.2 s). The report asks for a plan
    of its own dates, and no JIT, in its own transaction only."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    await seed(sessions)
    async with sessions() as session:
        await insights(session, parse_filter("2026-03-02", "2026-03-03", "day"), HOURS, NOW)
        assert await session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        assert await session.scalar(text("SHOW jit")) == "off"
    async with sessions() as session:
        assert await session.scalar(text("SHOW plan_cache_mode")) == "auto"
