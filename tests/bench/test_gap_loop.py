"""The knowledge-gap loop: streams kept apart, shares counted right, and an accepted group's
questions answered afterwards (a tiny FAQ, the real index, database and gap page)."""

from __future__ import annotations

import pytest

from bench.evaldata import Corpus, Example
from bench.gap_customers import Outcome
from bench.gap_data import GapSetup, gap_setup
from bench.gap_loop import grouping_table, run_loop, shares
from faq_index import Decision, SearchSettings

TEXTS = {f"intent_{i}": [f"question {i}.{n}" for n in range(30)] for i in range(10)}


def test_held_out_intents_stay_out_of_the_faq_and_dev_and_test_questions_apart():
    setup = gap_setup(TEXTS, seed=13, k=5, per_intent=10, kept_queries=4)
    assert len(setup.held_out) == 2
    assert not set(setup.held_out) & set(setup.faq.entries)
    assert all(len(texts) == 5 for texts in setup.faq.entries.values())
    dev = {e.text for e in setup.dev_stream}
    test = {e.text for e in setup.test_stream}
    assert not dev & test
    assert len(dev) == len(test) == 10  # 10 per intent, half and half
    assert {e.gold for e in setup.dev_stream} == {e.gold for e in setup.test_stream}
    assert {e.gold for e in setup.test_stream} == set(setup.held_out)
    indexed = {text for texts in setup.faq.entries.values() for text in texts}
    assert not indexed & {e.text for e in setup.kept_dev + setup.kept_test}
    assert len(setup.kept_dev) == len(setup.kept_test) == 4
    assert setup == gap_setup(TEXTS, seed=13, k=5, per_intent=10, kept_queries=4)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_share_holding_out_none_or_all_intents_is_refused(share):
    with pytest.raises(ValueError, match="held out"):
        gap_setup(TEXTS, seed=13, held_out_share=share)


def test_shares_count_an_agents_entry_as_the_intent_it_stands_for():
    outcomes = [
        Outcome(Example("a", "paypal"), Decision.ANSWER, "gap_01"),  # right: gap_01 is paypal
        Outcome(Example("b", "canada"), Decision.ANSWER, "gap_01"),  # wrong intent
        Outcome(Example("c", "invoice"), Decision.ANSWER, "invoice"),  # a source entry
        Outcome(Example("d", "canada"), Decision.CLARIFY, None, ("gap_01", "invoice")),
        Outcome(Example("e", "canada"), Decision.ESCALATE, None),
    ]
    counted = shares(outcomes, {"gap_01": "paypal"})
    assert counted.questions == 5
    assert (counted.answered, counted.correct, counted.wrong) == (0.6, 0.4, 0.2)
    assert (counted.clarified, counted.not_found) == (0.2, 0.2)
    # What the honest customer leaves on the gap page:
    assert [o.gap for o in outcomes[1:]] == ["not_helpful", None, "handoff", "not_found"]


SHOP = {
    "order_track": ["Where is my order?", "How do I track my parcel?", "Track my package",
                    "When will my delivery arrive?", "Has my order shipped?"],
    "refund_time": ["How long does a refund take?", "When will I get my money back?",
                    "Refund timing", "Refund status", "Is my refund processed yet?"],
    "password_reset": ["I forgot my password", "How do I reset my password?",
                       "Password recovery", "Can't remember my login password",
                       "Reset my account password"],
    "invoice": ["How do I get an invoice?", "Request an invoice",
                "I need a receipt for my order", "Invoice please", "Send me a VAT invoice"],
}  # fmt: skip
PAYPAL = ["Can I pay with PayPal?", "Do you accept PayPal?", "is paypal supported",
          "Can I use my PayPal account to pay?", "PayPal payment possible?",
          "do you take paypal", "pay via paypal", "Is PayPal an accepted payment method?"]  # fmt: skip
GIFT = ["Do you sell gift cards?", "Can I buy a gift card?", "gift card for a friend",
        "Where can I purchase a gift voucher?", "do you have gift cards",
        "I want to buy a gift card", "gift cards available?", "Can I order a gift card online?"]  # fmt: skip


def tiny_setup() -> GapSetup:
    def examples(texts: list[str], gold: str) -> list[Example]:
        return [Example(text, gold) for text in texts]

    return GapSetup(
        faq=Corpus("en", {entry: texts[:4] for entry, texts in SHOP.items()}),
        held_out=("gift_card", "paypal"),
        dev_stream=[*examples(PAYPAL[:5], "paypal"), *examples(GIFT[:5], "gift_card")],
        test_stream=[*examples(PAYPAL[5:], "paypal"), *examples(GIFT[5:], "gift_card")],
        kept_dev=[Example(texts[4], entry) for entry, texts in SHOP.items()],
        kept_test=[Example(texts[4], entry) for entry, texts in SHOP.items()],
    )


async def test_accepting_groups_teaches_the_bot_their_questions(tmp_path, embedder):
    setup = tiny_setup()
    base = SearchSettings(onnx_cache_dir="")  # PyTorch: no ONNX export needed
    result = await run_loop(setup, tmp_path, groups=2, decision="defaults", base=base)

    assert sum(result.gaps.values()) == len(setup.dev_stream)  # nothing of theirs was answered
    assert [point.accepted for point in result.curve] == [0, 1, 2]
    assert len({point.version for point in result.curve}) == 3  # rebuilt after each group
    for point in result.curve:
        for counted in (point.held_out, point.kept_in):
            assert counted.answered == pytest.approx(counted.correct + counted.wrong)
            total = counted.answered + counted.clarified + counted.not_found
            assert total == pytest.approx(1.0)
    assert result.curve[0].held_out.correct == 0.0
    assert {group.intent for group in result.accepted} == {"paypal", "gift_card"}
    for group in result.accepted:
        assert group.purity == 1.0 and group.size == 5 and group.added == 5
        assert group.own_answered == 1.0  # its own questions are answered with its entry
    assert result.curve[-1].held_out.correct > 0.5  # and questions asked afterwards mostly
    assert result.curve[-1].kept_in.wrong == 0.0

    rows = await grouping_table(setup, tmp_path, [0.55, 0.99], top=2, base=base)
    assert rows[0].covered == 1.0 and rows[0].intents == 2
    assert rows[1].groups == len(setup.dev_stream)  # nearly identical only: all singletons


async def test_an_unknown_decision_rule_is_refused_before_anything_is_built(tmp_path):
    with pytest.raises(ValueError, match="decision"):
        await run_loop(tiny_setup(), tmp_path, groups=1, decision="bogus")
    assert list(tmp_path.iterdir()) == []
