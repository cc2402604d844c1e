"""One row per conversation, on the metric tests' hand-built dataset (C0..C7, tabled in
:mod:`tests.support.insights_dataset`), on both databases: the rows add up to the report of the same filters, and the
abandoned conversation, the handoff resolved without a reply and the reopened ticket read as
the report defines them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bot.domain.insights import insights, parse_filter
from bot.domain.insights.conversation_rows import ConversationRow, conversation_rows
from bot.store.models import Conversation
from tests.support.insights_dataset import HOURS, NOW, seed

SUMMED = (
    "customer_messages",
    "questions",
    "answered",
    "clarified",
    "not_found",
    "helpful",
    "not_helpful",
    "bot_resolved",
    "handed_over",
    "tickets",
)


async def report(sessions, start="2026-03-02", end="2026-03-03", **filters):
    async with sessions() as session:
        return await insights(session, parse_filter(start, end, **filters), HOURS, NOW)


async def rows(sessions, start="2026-03-02", end="2026-03-03", batch_rows=500, **filters):
    found: list[ConversationRow] = []
    async with sessions() as session:
        async for batch in conversation_rows(
            session, parse_filter(start, end, **filters), HOURS, batch_rows
        ):
            assert 0 < len(batch) <= batch_rows
            found.extend(batch)
    return found


async def by_sender(sessions, found: list[ConversationRow]) -> dict[str, ConversationRow]:
    async with sessions() as session:
        senders = dict(
            (await session.execute(select(Conversation.id, Conversation.sender_id))).all()
        )
    return {senders[row.conversation_id]: row for row in found}


def agree(found: list[ConversationRow], expected: dict) -> None:
    assert len(found) == expected["conversations"]
    for name in SUMMED:
        assert sum(getattr(row, name) for row in found) == expected[name], name
    asked = [row for row in found if row.questions or row.handed_over]
    assert len(asked) == expected["conversations_with_questions"]
    reasons = Counter(row.handoff_reason for row in found if row.handed_over)
    assert reasons == expected["handoffs_by_reason"]
    assert not any(row.bot_resolved and row.handed_over for row in found)
    ratings = [row.rating for row in found if row.rating is not None]
    assert len(ratings) == expected["ratings"]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"channel": "widget"},
        {"channel": "wechat"},
        {"channel": "other"},
        {"language": "zh"},
        {"language": "zh-TW"},
    ],
)
async def test_the_rows_add_up_to_the_report(sessions, filters):
    await seed(sessions)
    agree(await rows(sessions, **filters), await report(sessions, **filters))


async def test_a_single_day_and_an_agent_add_up_too(sessions):
    ids = await seed(sessions)
    tuesday = {"start": "2026-03-03", "end": "2026-03-03"}
    agree(await rows(sessions, **tuesday), await report(sessions, **tuesday))
    bobs = await rows(sessions, agent_id=ids["bob"])
    agree(bobs, await report(sessions, agent_id=ids["bob"]))
    # The bot's figures are everyone's; the ticket columns only Bob's tickets (T1, T3).
    assert sum(row.handed_over for row in bobs) == 4
    assert {row.agent for row in bobs if row.ticket_id} == {"Bob"}


async def test_each_conversation_as_the_report_defines_it(sessions):
    await seed(sessions)
    found = await rows(sessions, batch_rows=2)
    assert [row.conversation_id for row in found] == sorted(row.conversation_id for row in found)
    c = await by_sender(sessions, found)
    assert set(c) == {"web-c1", "web-c2", "oC3", "web-c4", "c5", "oC6", "web-c7"}  # not C0

    assert (c["web-c1"].bot_resolved, c["web-c1"].helpful, c["web-c1"].language) == (True, 1, "en")
    assert (c["web-c2"].bot_resolved, c["web-c2"].handed_over) == (False, True)
    assert (c["web-c2"].not_helpful, c["web-c2"].handoff_reason, c["web-c2"].rating) == (
        1,
        "not_helpful",
        4,
    )
    assert (c["web-c2"].first_response_seconds, c["web-c2"].resolution_seconds) == (1800.0, 3600.0)
    assert c["web-c2"].agent == "Bob" and c["web-c2"].language == "zh"

    # Resolved by Ann without a word to the customer: handed over, never the bot's.
    c3 = c["oC3"]
    assert (c3.answered, c3.bot_resolved, c3.handed_over, c3.handoff_reason) == (
        1,
        False,
        True,
        "requested",
    )
    assert (c3.first_response_seconds, c3.resolution_seconds, c3.agent) == (None, 600.0, "Ann")
    assert c3.customer_messages == 2  # the follow event is nobody's message

    # Abandoned after the did-you-mean: neither resolved nor handed over.
    c4 = c["web-c4"]
    assert (c4.questions, c4.clarified, c4.bot_resolved, c4.handed_over) == (1, 1, False, False)
    assert (c4.ticket_id, c4.handoff_reason, c4.language) == (None, None, "zh-TW")

    # Across midnight: one row, the button chosen on Tuesday resolves it.
    c5 = c["c5"]
    assert (c5.questions, c5.answered, c5.clarified, c5.not_found) == (3, 1, 1, 1)
    assert (c5.bot_resolved, c5.channel) == (True, "rest")

    # Reopened: timed from its opening to its final resolution, as the report times it.
    c6 = c["oC6"]
    assert (c6.handoff_reason, c6.not_found, c6.rating) == ("not_found", 2, 2)
    assert (c6.first_response_seconds, c6.first_response_business_seconds) == (57600.0, 3600.0)
    assert (c6.resolution_seconds, c6.resolution_business_seconds) == (64800.0, 10800.0)

    c7 = c["web-c7"]
    assert (c7.questions, c7.handed_over, c7.handoff_reason, c7.tickets) == (
        0,
        True,
        "complaint",
        1,
    )
    assert (c7.agent, c7.first_response_seconds, c7.resolution_seconds) == (None, None, None)


async def test_an_empty_range_has_no_rows(sessions):
    await seed(sessions)
    assert await rows(sessions, start="2026-01-05", end="2026-01-11") == []
