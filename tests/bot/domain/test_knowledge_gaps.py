"""Knowledge gaps: unanswered questions found, grouped by meaning, dismissals remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.domain.faq_lookup import FaqLookup
from bot.domain.knowledge_gaps import (
    HANDOFF,
    NOT_FOUND,
    NOT_HELPFUL,
    cluster,
    dismiss,
    dismissed_keys,
    group_key,
    knowledge_gaps,
    unanswered_questions,
)
from bot.store.models import Conversation, Customer, Direction, Interaction, Ticket
from faq_index import SearchSettings

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture()
def lookup(small_index, embedder):
    found = FaqLookup(SearchSettings(index_dir=small_index, onnx_cache_dir=""))
    yield found
    found.close()


async def conversation(session, sender: str) -> Conversation:
    customer = Customer()
    session.add(customer)
    await session.flush()
    row = Conversation(
        sender_id=sender, customer_id=customer.id, started_at=START, last_message_at=START
    )
    session.add(row)
    await session.flush()
    return row


async def message(session, chat: Conversation, text: str, minute: int, **columns) -> Interaction:
    row = Interaction(
        event_key=f"{chat.sender_id}-{minute}-{columns.get('direction', 'c')}",
        customer_id=chat.customer_id,
        conversation_id=chat.id,
        direction=Direction.CUSTOMER.value,
        text=text,
        timestamp=START + timedelta(days=1, minutes=minute),
        **columns,
    )
    session.add(row)
    await session.flush()
    return row


NOT_FOUND_QUESTIONS = [
    "Can I pay with PayPal?",
    "Do you accept PayPal payments?",
    "is paypal supported",
    "Do you ship to Canada?",
    "shipping to canada",
    "能用支付宝付款吗",
]


async def populate(sessions) -> None:
    async with sessions() as session, session.begin():
        for number, text in enumerate(NOT_FOUND_QUESTIONS):
            chat = await conversation(session, f"web-{number}")
            await message(session, chat, text, number, faq_decision="escalate")
        # Answered and fine: not a gap.
        chat = await conversation(session, "web-answered")
        await message(
            session, chat, "Where is my order?", 20, faq_decision="answer", faq_id="order_track"
        )
        # Answered, then "did not help": the question it answered is a gap.
        chat = await conversation(session, "web-unhelpful")
        await message(
            session,
            chat,
            "Can you deliver to Canada?",
            30,
            faq_decision="answer",
            faq_id="order_track",
        )
        await message(session, chat, "that did not help", 31, feedback=NOT_HELPFUL)
        # A handoff with its question, and the same question again in that conversation: once.
        chat = await conversation(session, "web-ticket")
        await message(session, chat, "Do you take PayPal?", 40, faq_decision="escalate")
        session.add(
            Ticket(
                customer_id=chat.customer_id,
                conversation_id=chat.id,
                reason="not_found",
                question="Do you take PayPal?",
                created_at=START + timedelta(days=1, hours=1),
            )
        )
        # Outside the range: left out.
        chat = await conversation(session, "web-old")
        row = await message(session, chat, "Do you sell gift cards?", 50, faq_decision="escalate")
        row.timestamp = START - timedelta(days=3)


async def test_the_unanswered_questions_of_a_range(sessions):
    await populate(sessions)
    async with sessions() as session:
        gaps = await unanswered_questions(session, START, END)
    texts = {gap.text: gap.source for gap in gaps}
    assert texts == {
        **dict.fromkeys(NOT_FOUND_QUESTIONS, NOT_FOUND),
        "Can you deliver to Canada?": NOT_HELPFUL,
        "Do you take PayPal?": NOT_FOUND,
    }
    assert {gap.language for gap in gaps if gap.text == "能用支付宝付款吗"} == {"zh"}
    async with sessions() as session:
        assert await unanswered_questions(session, END, END + timedelta(days=1)) == []
    assert HANDOFF  # tickets count too: see test_handoffs_count


async def test_handoffs_count(sessions):
    async with sessions() as session, session.begin():
        chat = await conversation(session, "web-h")
        session.add(
            Ticket(
                customer_id=chat.customer_id,
                conversation_id=chat.id,
                reason="requested",
                question="I want to speak to a manager about my warranty",
                created_at=START + timedelta(days=2),
            )
        )
    async with sessions() as session:
        gaps = await unanswered_questions(session, START, END)
    assert [(gap.text, gap.source) for gap in gaps] == [
        ("I want to speak to a manager about my warranty", HANDOFF)
    ]


async def test_paraphrases_are_grouped_together_and_other_questions_apart(sessions, lookup):
    await populate(sessions)
    async with sessions() as session:
        groups = await knowledge_gaps(session, lookup, START, END)
    found = [set(group.summary()["questions"]) for group in groups]
    paypal = {
        "Can I pay with PayPal?",
        "Do you accept PayPal payments?",
        "is paypal supported",
        "Do you take PayPal?",
    }
    canada = {"Do you ship to Canada?", "shipping to canada", "Can you deliver to Canada?"}
    assert found[0] == paypal and found[1] == canada
    assert {"能用支付宝付款吗"} in found
    first = groups[0].summary()
    assert first["count"] == 4 and first["languages"] == {"en": 4}
    assert first["key"] == group_key(first["question"])
    assert len(first["nearest"]) >= 1 and {"id", "score", "question"} <= set(first["nearest"][0])
    # The same data gives the same groups, in the same order, with the same keys.
    async with sessions() as session:
        again = await knowledge_gaps(session, lookup, START, END)
    assert [g.key for g in again] == [g.key for g in groups]


async def test_a_dismissed_group_stays_dismissed(sessions, lookup):
    await populate(sessions)
    async with sessions() as session:
        groups = await knowledge_gaps(session, lookup, START, END)
    paypal = groups[0]
    async with sessions() as session, session.begin():
        await dismiss(session, paypal.key, paypal.central.text, None)
        await dismiss(session, paypal.key, paypal.central.text, None)  # twice: still one row
    async with sessions() as session:
        assert await dismissed_keys(session) == {paypal.key}
        later = await knowledge_gaps(session, lookup, START, END)
    assert paypal.key not in [g.key for g in later] and len(later) == len(groups) - 1


def test_clustering_is_deterministic_and_biggest_first():
    vectors = np.array([[0, 1], [1, 0], [0.96, 0.28], [0.99, 0.14]], dtype=np.float32)
    assert cluster(vectors, 0.9) == [[3, 1, 2], [0]]
    assert cluster(vectors, 1.01) == [[0], [1], [2], [3]]
    assert cluster(np.zeros((0, 2), dtype=np.float32)) == []


def greedy_average_linkage(vectors: np.ndarray, threshold: float) -> list[set[int]]:
    """The definition, merging step by step (cubic): the two groups of the highest mean
    pairwise cosine merge while it is at least ``threshold``."""
    similarity = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    groups = [{row} for row in range(len(vectors))]
    while len(groups) > 1:
        best, pair = -np.inf, None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                mean = similarity[np.ix_(sorted(groups[i]), sorted(groups[j]))].mean()
                if mean > best:
                    best, pair = mean, (i, j)
        if best < threshold:
            break
        i, j = pair
        groups[i] |= groups.pop(j)
    return groups


@pytest.mark.parametrize("seed", range(6))
def test_clustering_groups_as_the_greedy_definition_does(seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 12))
    points = np.repeat(centres, rng.integers(1, 8, size=6), axis=0)
    points = points + rng.normal(scale=0.6, size=points.shape)
    vectors = points / np.linalg.norm(points, axis=1, keepdims=True)

    for threshold in (0.3, 0.55, 0.8):
        expected = greedy_average_linkage(vectors, threshold)
        assert sorted(map(sorted, expected)) == sorted(
            sorted(g) for g in cluster(vectors, threshold)
        )


CHINESE_GAPS = [
    ("能用支付宝付款吗", "alipay"),
    ("可以用支付宝支付吗", "alipay"),
    ("支援支付寶付款嗎", "alipay"),  # Traditional, Taiwan
    ("你们发货到新加坡吗", "singapore"),
    ("能寄到新加坡吗", "singapore"),
    ("发票怎么开", "invoice"),
    ("怎么开发票", "invoice"),
    ("Can I pay with PayPal?", "paypal"),
    ("Do you accept PayPal payments?", "paypal"),
]


async def test_chinese_questions_are_grouped_by_what_they_say_apart_from_english(sessions, lookup):
    async with sessions() as session, session.begin():
        for number, (text, _) in enumerate(CHINESE_GAPS):
            chat = await conversation(session, f"web-zh-{number}")
            await message(session, chat, text, number, faq_decision="escalate")

    async with sessions() as session:
        groups = await knowledge_gaps(session, lookup, START, END)

    topic = dict(CHINESE_GAPS)
    found = sorted(sorted(topic[gap.text] for gap in g.questions) for g in groups)
    assert found == [
        ["alipay"] * 3,
        ["invoice"] * 2,
        ["paypal"] * 2,
        ["singapore"] * 2,
    ]
