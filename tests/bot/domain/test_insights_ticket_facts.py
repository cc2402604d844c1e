"""The insights ticket facts (bot.domain.insights.ticket_facts) and the roll-up under a purge:
the writers keep them as a rebuild makes them, and the report read from them says what the raw
rows say; on both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

import bot.domain.tickets as tickets
from bench.insights_dataset import Shape, generate
from bench.insights_scale import fill
from bot.domain.insights import InsightsFilter
from bot.domain.insights.filters import Grouping
from bot.domain.insights.ticket_facts import rebuild_insights
from bot.domain.privacy import purge
from bot.domain.tickets import Actor, open_ticket, rate, reopen, reply, resolve
from bot.settings.hours import BusinessHours
from bot.store.models import Agent, TicketFact
from tests.bot.store.test_rollup import at, both_ways, snapshot, turn
from tests.bot.workers.test_ingestion import SECRET, drain, publish
from vocabulary import EscalationReason

HOURS = BusinessHours.parse("09:00-21:00", "Asia/Shanghai")  # the settings' defaults


def local(moment: str) -> datetime:
    return datetime.fromtimestamp(at(moment), UTC)


async def facts(sessions) -> list[tuple]:
    async with sessions() as session:
        return sorted(tuple(row) for row in await session.execute(select(TicketFact.__table__)))


async def an_agent(sessions) -> Actor:
    async with sessions() as session, session.begin():
        agent = Agent(
            username="ann", display_name="Ann", password_hash="unused", role="agent",
            created_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(agent)
        await session.flush()
        return Actor(agent.id, agent.display_name, agent.role)


async def test_the_ticket_life_cycle_keeps_the_facts_as_a_rebuild_makes_them(sessions, monkeypatch):
    """A ticket opened at 20:55 after an answer, answered the next morning (across midnight and
    the 21:00 closing), resolved, rated, reopened, resolved again and rated anew; another whose
    question is stored after it was opened (the ingestion worker is behind)."""
    clock = {"now": local("03-02 20:55")}
    monkeypatch.setattr(tickets, "now", lambda: clock["now"])
    await publish(sessions, "web-f1", turn("where is my parcel?", "03-02 20:50", "answer", "order_track"))  # fmt: skip
    await drain(sessions)
    ann = await an_agent(sessions)

    async def step(moment: str, action) -> None:
        clock["now"] = local(moment)
        async with sessions() as session, session.begin():
            await action(session)

    opened = {}

    async def open_(sender):
        async def action(session):
            ticket, _ = await open_ticket(
                session, sender, EscalationReason.NOT_HELPFUL, "?", [], "rest", {}, SECRET
            )
            opened[sender] = ticket.id

        return action

    await step("03-02 20:55", await open_("web-f1"))
    first = opened["web-f1"]
    await step("03-03 09:30", lambda s: reply(s, first, "It is on its way.", ann))
    await step("03-03 10:00", lambda s: resolve(s, first, None, ann))
    await step("03-03 10:01", lambda s: rate(s, "web-f1", 4))
    await step("03-03 11:00", lambda s: reopen(s, first, ann))
    await step("03-03 12:00", lambda s: resolve(s, first, None, ann))
    await step("03-03 12:01", lambda s: rate(s, "web-f1", 2))  # the rating changed
    await step("03-03 08:00", await open_("web-f2"))
    await publish(sessions, "web-f2", turn("refund?", "03-03 07:58", "answer", "refund_time"))
    await drain(sessions)

    kept = await facts(sessions)
    by_ticket = {row[0]: row for row in kept}
    assert by_ticket[first][5:] == (1, 45300.0, 2100.0, 54300.0, 11100.0, 2, "order_track")
    assert by_ticket[opened["web-f2"]][-1] == "refund_time"  # counted when its question came
    async with sessions() as session, session.begin():
        rebuilt = await rebuild_insights(session, HOURS)
    assert rebuilt.ticket_facts == 2 and await facts(sessions) == kept

    reports = []
    for flt in (
        InsightsFilter(date(2026, 3, 2), date(2026, 3, 3), Grouping.DAY),
        InsightsFilter(date(2026, 3, 2), date(2026, 3, 3), agent_id=ann.id),
    ):
        rolled, raw = await both_ways(sessions, flt, HOURS, local("03-03 13:00"))
        assert rolled == raw, flt
        reports.append(json.loads(rolled))
    report, anns = reports
    assert anns["tickets"] == 1 and anns["agents"][0]["resolution_seconds"]["mean"] == 54300.0
    assert (report["tickets"], report["tickets_reopened"], report["satisfaction_average"]) == (
        2, 1, 2.0,
    )  # fmt: skip
    handoffs = {e["entry_id"]: e["handoffs_after"] for e in report["faq_entries"]}
    assert handoffs == {"order_track": 1, "refund_time": 1}


async def test_a_report_in_other_business_hours_reads_the_raw_rows(sessions, monkeypatch):
    """The facts hold times counted in the hours they were built with: a report in other
    hours counts from the raw rows (until ``python -m bot insights rebuild``)."""
    clock = {"now": local("03-02 20:55")}
    monkeypatch.setattr(tickets, "now", lambda: clock["now"])
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session, "web-h1", EscalationReason.NOT_FOUND, "?", [], "rest", {}, SECRET
        )
    clock["now"] = local("03-03 09:30")
    async with sessions() as session, session.begin():
        await reply(session, ticket.id, "Hello.", await _admin(session))
    later = BusinessHours.parse("10:00-18:00", "Asia/Shanghai")
    flt = InsightsFilter(date(2026, 3, 2), date(2026, 3, 2))
    rolled, raw = await both_ways(sessions, flt, later, local("03-03 13:00"))
    assert rolled == raw
    # 20:55 to 09:30 the next morning: only 09:00 to 09:30 within the old hours, none in these
    assert json.loads(raw)["first_response_business_seconds"]["mean"] == 0.0


async def _admin(session) -> Actor:
    agent = Agent(
        username="root", display_name="Root", password_hash="unused", role="admin",
        created_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(agent)
    await session.flush()
    return Actor(agent.id, agent.display_name, agent.role)


async def test_a_purge_leaves_the_roll_up_what_a_rebuild_would_make(sessions):
    """Retention removes the old messages of conversations that go on: their days are counted
    again, and the report still says what the remaining rows say."""
    shape = Shape(interactions=3_000, days=14, end=date(2026, 11, 29))
    await fill(sessions.kw["bind"], generate(shape))
    async with sessions() as session, session.begin():
        await rebuild_insights(session, shape.hours)
    async with sessions() as session, session.begin():
        gone = await purge(session, None, days=7, now=shape.end_instant)
    assert gone["interactions"] > 0
    for flt in (
        InsightsFilter(shape.first, shape.end, Grouping.DAY),
        InsightsFilter(shape.first, shape.end),
    ):
        rolled, raw = await both_ways(sessions, flt, shape.hours, shape.end_instant)
        assert rolled == raw, flt
    kept = (await snapshot(sessions), await facts(sessions))
    async with sessions() as session, session.begin():
        await rebuild_insights(session, shape.hours)
    assert (await snapshot(sessions), await facts(sessions)) == kept
