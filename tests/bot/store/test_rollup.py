"""The insights roll-up (bot.store.rollup): the report read from it says what the raw rows say,
the writers keep it as a rebuild would make it, and a report in another time zone falls back to
the raw rows until the roll-up is rebuilt; on both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.insights_dataset import Shape, generate
from bench.insights_scale import fill
from bot.domain.identity import sign
from bot.domain.insights import InsightsFilter, insights
from bot.domain.insights.filters import ChannelGroup, Grouping
from bot.domain.insights.ticket_facts import rebuild_insights
from bot.domain.mail.inbound import parse_mail
from bot.domain.mail.replies import store_reply
from bot.domain.mail.threads import thread_token
from bot.domain.tickets import open_ticket
from bot.settings.hours import BusinessHours
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import ConversationDay, CustomerDay, EntryDay
from bot.store.rollup import local_day, rollup_zone
from bot.store.rollup_rebuild import rebuild_async
from bot.workers.ingestion import Ingestor
from tests.bot.workers.test_ingestion import SECRET, bot, drain, publish, slot, user
from vocabulary import EscalationReason

MAIL = b"From: Ann <ann@example.com>\r\nSubject: Re: your question\r\n\r\nThanks, it came.\r\n"
SHAPE = Shape(interactions=3_000, days=14, end=date(2026, 11, 29))
SHANGHAI = ZoneInfo("Asia/Shanghai")


def filters(shape: Shape) -> list[InsightsFilter]:
    first, last = shape.first, shape.end
    return [
        InsightsFilter(first, last),
        InsightsFilter(first, last, Grouping.DAY),
        InsightsFilter(first + timedelta(days=2), last, Grouping.WEEK, ChannelGroup.WIDGET),
        InsightsFilter(first, last, Grouping.DAY, ChannelGroup.WECHAT, language="zh"),
        InsightsFilter(first, last, channel=ChannelGroup.OTHER, agent_id=1),
        InsightsFilter(first - timedelta(days=14), first - timedelta(days=1), Grouping.WEEK),
    ]


async def both_ways(sessions, flt: InsightsFilter, hours: BusinessHours, now: datetime):
    async with sessions() as session:
        rolled = await insights(session, flt, hours, now)
        raw = await insights(session, flt, hours, now, rollup=False)
    return json.dumps(rolled, sort_keys=True), json.dumps(raw, sort_keys=True)


async def test_the_report_from_the_roll_up_is_the_raw_rows_report(sessions):
    data = generate(SHAPE)
    await fill(sessions.kw["bind"], data)
    async with sessions() as session, session.begin():
        rebuilt = await rebuild_insights(session, SHAPE.hours)
    assert rebuilt.conversation_days >= len(data.conversations) > 0
    assert rebuilt.ticket_facts == len(data.tickets) > 0
    assert rebuilt.entry_days > 0 and rebuilt.customer_days > 0
    async with sessions() as session:
        assert await rollup_zone(session) == SHAPE.timezone  # the report reads the roll-up
    for flt in filters(SHAPE):
        rolled, raw = await both_ways(sessions, flt, SHAPE.hours, SHAPE.end_instant)
        assert rolled == raw, flt
    assert json.loads(rolled)["series"]  # the last (an empty earlier range) is grouped too


def at(moment: str) -> float:
    """'03-02 23:59:30' in Shanghai, 2026, as Rasa's event timestamp."""
    day, clock = moment.split()
    month, dom = (int(part) for part in day.split("-"))
    parts = [int(part) for part in clock.split(":")]
    return datetime(2026, month, dom, *parts, tzinfo=SHANGHAI).timestamp()


def timed(event: dict, moment: str) -> dict:
    return {**event, "timestamp": at(moment)}


def turn(text: str, moment: str, decision: str, faq_id: str | None = None) -> list[dict]:
    events = [timed(user(text), moment), timed(bot("..."), moment), slot("faq_decision", decision)]
    return events + ([slot("faq_id", faq_id)] if faq_id else [])


async def snapshot(sessions) -> list[list[tuple]]:
    async with sessions() as session:
        tables = []
        for model in (ConversationDay, CustomerDay, EntryDay):
            rows = await session.execute(select(model.__table__))
            tables.append(sorted(tuple(row) for row in rows))
        return tables


async def test_the_writers_keep_it_as_a_rebuild_makes_it(sessions):
    """Ingestion (turns across midnight, verdicts, a follow event, a redelivered event, a
    sign-in that merges an anonymous profile) and a ticket opened leave the roll-up exactly as
    recounting everything from the raw rows does."""
    late = turn("where is my parcel?", "03-02 23:59:30", "answer", "order_track")
    verdict = [timed(user("/no", "feedback_not_helpful"), "03-03 00:00:10")]
    verdict += [slot("faq_feedback", "not_helpful")]
    events = late + verdict + turn("invoice?", "03-03 00:01", "clarify")
    events += [timed(user("/subscribe", "subscribe", channel="wechat"), "03-03 00:02")]
    events += turn("refund?", "03-03 09:00", "answer", "refund_time")
    events += [timed(user("/yes", "feedback_helpful"), "03-03 09:01")]
    events += [slot("faq_feedback", "helpful")]
    await publish(sessions, "web-r1", events)
    await publish(sessions, "web-r1", events[:2])  # delivered again: stored once
    await publish(sessions, "web-r2", turn("hello?", "03-03 10:00", "escalate"))
    signed = {"customer_id": "c-9", "customer_hash": sign("c-9", SECRET)}
    await publish(sessions, "web-r2", [timed(user("me again", metadata=signed), "03-03 10:05")])
    await drain(sessions, Ingestor(SECRET))
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session, "web-r2", EscalationReason.NOT_FOUND, "hello?", [], "socketio", {}, SECRET
        )
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    async with sessions() as session, session.begin():  # the customer answers an e-mail
        token = await thread_token(session, ticket.conversation_id, tomorrow)
        await store_reply(
            session, token=token, mail=parse_mail(MAIL), key="m-1", size=len(MAIL),
            envelope_sender=None, now=tomorrow,
        )  # fmt: skip
    kept = await snapshot(sessions)
    conversation_days, customer_days, _ = kept
    # web-r1 on the 2nd and the 3rd, web-r2 on the 3rd and today (its ticket, opened now)
    assert [(row[0], row[1]) for row in conversation_days][:3] == [
        (1, date(2026, 3, 2)), (1, date(2026, 3, 3)), (2, date(2026, 3, 3)),
    ]  # fmt: skip
    assert conversation_days[3][-1] is not None and conversation_days[3][2] == 0
    assert len(customer_days) == 4  # the anonymous visitor of web-r2 became customer c-9
    assert conversation_days[4][1:3] == (local_day(tomorrow, SHANGHAI), 1)  # the e-mailed answer
    async with sessions() as session, session.begin():
        await rebuild_async(session, SHANGHAI)
    assert await snapshot(sessions) == kept
    # The answer at 23:59:30 was refused after midnight: counted on its own day.
    monday = next(row for row in conversation_days if row[1] == date(2026, 3, 2))
    assert monday[2:] == (1, 1, 1, 0, 0, 0, 1, 1, None)


async def test_a_report_in_another_time_zone_reads_the_raw_rows_until_rebuilt(tmp_path):
    """(SQLite only: the databases do not differ here.)"""
    url = f"sqlite:///{tmp_path / 'zones.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        await _another_time_zone(session_factory(engine))
    finally:
        await engine.dispose()


async def _another_time_zone(sessions) -> None:
    shape = Shape(interactions=600, days=3, end=date(2026, 11, 29))
    await fill(sessions.kw["bind"], generate(shape))
    async with sessions() as session, session.begin():
        await rebuild_async(session, SHANGHAI)
    london = BusinessHours.parse("09:00-17:00", "Europe/London")
    flt = InsightsFilter(shape.first, shape.end, Grouping.DAY)
    rolled, raw = await both_ways(sessions, flt, london, shape.end_instant)
    assert rolled == raw and json.loads(raw)["conversations"] > 0
    async with sessions() as session, session.begin():
        await rebuild_async(session, london.timezone)
    async with sessions() as session:
        assert await rollup_zone(session) == london.timezone
    assert await both_ways(sessions, flt, london, shape.end_instant) == (rolled, raw)


def test_a_day_is_the_one_the_report_puts_an_instant_in():
    new_york = ZoneInfo("America/New_York")
    # 8 March 2026: clocks go forward at 02:00; the day is 23 hours long.
    assert local_day(datetime(2026, 3, 8, 4, 59, tzinfo=UTC), new_york) == date(2026, 3, 7)
    assert local_day(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), new_york) == date(2026, 3, 8)
    assert local_day(datetime(2026, 3, 9, 3, 59, tzinfo=UTC), new_york) == date(2026, 3, 8)
    assert local_day(datetime(2026, 3, 9, 4, 0, tzinfo=UTC), new_york) == date(2026, 3, 9)
