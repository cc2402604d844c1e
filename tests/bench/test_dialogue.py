"""The conversation benchmark: its data file, and how tracker snapshots are judged."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bench import dialogue_data as data
from bench import dialogue_scoring as scoring
from bench.dialogue_report import markdown_table, summarise
from faq_index.sources import load_sources

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "bench" / "dialogue_messages.yml"


@pytest.fixture(scope="module")
def items() -> list[data.Item]:
    return data.load_items(DATA)


@pytest.fixture(scope="module")
def faq() -> list:
    return load_sources([REPO / "data" / "faq"])


# ---- the data file ----------------------------------------------------------------------


def test_the_data_has_no_problems(items, faq):
    assert data.problems(items, {entry.id for entry in faq}) == []
    assert len(items) >= data.MIN_ITEMS


def test_every_group_has_both_splits_in_halves(items):
    for group in data.GROUPS:
        counts = Counter(i.split for i in items if i.group == group)
        assert counts["dev"] and counts["test"], group
        assert abs(counts["dev"] - counts["test"]) <= 1, group


def test_ids_are_unique_and_every_language_is_there(items):
    assert len({i.id for i in items}) == len(items)
    assert {i.lang for i in items} == set(data.LANGS)
    hong_kong = [i for i in items if i.group == "traditional" and i.lang == "zh-HK"]
    assert {i.split for i in hong_kong} == {"dev", "test"}


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def test_no_message_copies_a_faq_question_variant(items, faq):
    variants = {
        _plain(question)
        for entry in faq
        for localized in entry.texts.values()
        for question in localized.questions
    }
    copied = [i.id for i in items for turn in i.turns if _plain(turn) in variants]
    assert copied == []


def test_yes_no_items_are_conversations_and_start_items_are_payloads(items):
    assert all(i.turns[-1].startswith("/") for i in items if i.group == "start")
    assert sum(len(i.turns) > 1 for i in items if i.group == "yes_no") >= 12


def test_problems_names_what_is_wrong():
    item = data.Item("a", "typos", "dev", "en", ("hi",), data.Expectation("answer", ("x",)))
    found = data.problems([item, item], {"y"}, minimum=3)
    assert "2 items, fewer than 3" in found
    assert "id a is used 2 times" in found
    assert "a: no FAQ entry x" in found
    assert any(p.startswith("group typos lacks a split") for p in found)


@pytest.mark.parametrize(
    "raw, error",
    [
        ({"id": "a", "group": "typos", "split": "dev", "lang": "en", "expect": "greet"}, "text"),
        (
            {
                "id": "a",
                "group": "x",
                "split": "dev",
                "lang": "en",
                "text": "hi",
                "expect": "greet",
            },
            "group",
        ),
        (
            {
                "id": "a",
                "group": "typos",
                "split": "dev",
                "lang": "en",
                "text": "hi",
                "expect": "joy",
            },
            "expectation",
        ),
        (
            {
                "id": "a",
                "group": "typos",
                "split": "eval",
                "lang": "en",
                "text": "hi",
                "expect": "greet",
            },
            "split",
        ),
    ],
)
def test_malformed_items_are_refused(raw, error):
    with pytest.raises(data.DataError, match=error):
        data.parse_item(raw)


def test_expectations_parse():
    assert data.Expectation.parse({"answer": "a"}) == data.Expectation("answer", ("a",))
    assert data.Expectation.parse({"answer": ["a", "b"]}).entries == ("a", "b")
    assert data.Expectation.parse("not_answered").kind == "not_answered"
    for bad in ("answer", {"answer": []}, {"answer": "a", "also": "b"}, 3):
        with pytest.raises(data.DataError):
            data.Expectation.parse(bad)


# ---- tracker snapshots ------------------------------------------------------------------


def user(text: str, intent: str = "ask_question", entities: list | None = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


def bot(text: str, response: str | None = None, buttons: list | None = None) -> dict:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "text": text, "metadata": metadata, "data": {"buttons": buttons}}


def choice(entry: str) -> dict:
    return {"title": entry, "payload": "/choose_faq" + json.dumps({"faq_choice": entry})}


def answered(entry: str) -> list[dict]:
    return [
        action("action_begin_turn"),
        action("action_answer_faq"),
        bot("The answer."),
        bot("Did this answer help?", "utter_ask_feedback"),
        slot("faq_decision", "answer"),
        slot("faq_id", entry),
        slot("faq_score", 0.8),
        slot("faq_candidates", None),
        slot("pending_offer", "feedback"),
        action("action_listen"),
    ]


def clarified(*entries: str) -> list[dict]:
    return [
        action("action_begin_turn"),
        action("action_answer_faq"),
        bot("I'm not sure", "utter_did_you_mean", [*map(choice, entries), {"payload": "/deny"}]),
        slot("faq_decision", "clarify"),
        slot("faq_id", None),
        slot("faq_candidates", [{"id": e, "score": 0.5} for e in entries]),
        action("action_listen"),
    ]


NOT_FOUND = [
    action("action_begin_turn"),
    action("action_answer_faq"),
    bot("Sorry, I couldn't find an answer", "utter_not_found"),
    slot("faq_decision", "escalate"),
    slot("faq_candidates", [{"id": "order_track", "score": 0.2}]),
    slot("pending_offer", "human"),
    action("action_listen"),
]
HANDOFF = [
    action("action_begin_turn"),
    action("action_handle_yes_no"),
    bot("I've passed this to our team (ticket 7).", "utter_handoff_soon"),
    slot("handoff_ticket", "7"),
    action("action_listen"),
]


def conversation(*turns: tuple[dict, list[dict]]) -> list[dict]:
    events = [{"event": "action", "name": "action_session_start"}, action("action_listen")]
    for message, rest in turns:
        events += [message, *rest]
    return events


def test_turns_cut_at_user_messages_and_drop_the_session_start():
    events = conversation((user("a"), NOT_FOUND), (user("yes", "affirm"), HANDOFF))
    cut = scoring.turns(events)
    assert [t[0]["text"] for t in cut] == ["a", "yes"]
    assert scoring.turn_complete(events, 2)
    assert not scoring.turn_complete(events, 3)
    assert not scoring.turn_complete(events[:-1], 2)


def test_an_answer_is_the_entry_the_turn_set():
    seen = scoring.observe([user("where is my stuff"), *answered("order_track")])
    assert (seen.kind, seen.faq_id, seen.score) == ("answer", "order_track", 0.8)
    assert seen.signature() == "answer:order_track"
    assert seen.replies == ("The answer.", "Did this answer help?")
    expect = data.Expectation("answer", ("order_track", "shipping_delivery_time"))
    assert scoring.classify(expect, seen) == scoring.RIGHT
    assert scoring.classify(data.Expectation("answer", ("order_cancel",)), seen) == "wrong_answer"
    assert scoring.classify(data.Expectation("not_answered"), seen) == "wrong_answer"
    assert scoring.classify(data.Expectation("welcome"), seen) == "wrong_answer"


def test_a_clarification_counts_the_entries_of_its_buttons():
    seen = scoring.observe([user("coupon"), *clarified("member_coupon_get", "member_coupon_rules")])
    assert seen.kind == "clarify"
    assert seen.offered == ("member_coupon_get", "member_coupon_rules")
    good = data.Expectation("answer", ("member_coupon_rules",))
    assert scoring.classify(good, seen) == scoring.BUTTONS
    assert scoring.classify(data.Expectation("answer", ("order_track",)), seen) == "other"
    # A "did you mean" is never right for an off-topic message.
    assert scoring.classify(data.Expectation("not_answered"), seen) == "other"


def test_not_found_is_right_off_topic_and_needless_for_a_question():
    seen = scoring.observe([user("tell me a joke"), *NOT_FOUND])
    assert seen.kind == "not_found"
    assert seen.candidates == (("order_track", 0.2),)
    assert scoring.classify(data.Expectation("not_answered"), seen) == scoring.RIGHT
    question = data.Expectation("answer", ("order_track",))
    assert scoring.classify(question, seen) == scoring.NEEDLESS


def test_only_the_last_turn_counts():
    """An answer in an earlier turn leaves its slots set; the judged turn is the yes."""
    events = conversation(
        (user("where is my order"), answered("order_track")),
        (user("yes", "affirm"), [
            action("action_begin_turn"),
            action("action_handle_yes_no"),
            bot("Great, thanks for letting me know!", "utter_feedback_thanks"),
            slot("pending_offer", None),
            slot("faq_feedback", "helpful"),
            action("action_listen"),
        ]),
    )  # fmt: skip
    item = data.Item(
        "yn", "yes_no", "dev", "en", ("where is my order", "yes"),
        data.Expectation("feedback_helpful"),
    )  # fmt: skip
    result = scoring.judge(item, events, [0.1, 0.2])
    assert result.seen.kind == "feedback_helpful"
    assert result.category == scoring.RIGHT
    assert [o.kind for o in result.earlier] == ["answer"]


def test_a_handoff_beats_the_not_found_that_led_to_it():
    turn = [user("what is this"), *NOT_FOUND[:-1], *HANDOFF[1:]]
    seen = scoring.observe(turn)
    assert seen.kind == "handoff"
    assert scoring.classify(data.Expectation("handoff"), seen) == scoring.RIGHT
    assert scoring.classify(data.Expectation("not_answered"), seen) == scoring.RIGHT
    assert scoring.classify(data.Expectation("answer", ("x",)), seen) == scoring.NEEDLESS


@pytest.mark.parametrize(
    "rest, kind",
    [
        ([action("action_greet"), bot("Hi!", "utter_greet")], "greet"),
        (
            [action("utter_you_are_welcome"), bot("You're welcome!", "utter_you_are_welcome")],
            "welcome",
        ),
        ([action("utter_goodbye"), bot("Goodbye", "utter_goodbye")], "goodbye"),
        ([action("action_handle_yes_no"), bot("OK.", "utter_anything_else")], "acknowledged"),
        ([action("action_record_rating"), bot("Thanks", "utter_rating_thanks")], "rating_recorded"),
        ([action("action_default_fallback"), bot("Sorry?", "utter_default")], "default"),
        ([action("action_answer_faq"), slot("faq_decision", None)], "rephrase"),
        ([action("action_begin_turn")], "silent"),
        ([action("action_mystery"), bot("?")], "other"),
    ],
)
def test_kinds_of_turns(rest, kind):
    assert scoring.observe([user("x"), *rest, action("action_listen")]).kind == kind


def test_a_number_taken_for_a_rating_is_not_an_answer():
    seen = scoring.observe([
        user("5 days and no parcel", "rate", [{"entity": "rating", "value": 5}]),
        action("action_record_rating"),
        bot("Thank you for your rating!", "utter_rating_thanks"),
    ])  # fmt: skip
    assert seen.kind == "rating_recorded"
    assert seen.entities == ("rating=5",)
    expect = data.Expectation("answer", ("order_track",))
    assert scoring.classify(expect, seen) == "other"
    assert "rating_recorded (NLU: rate)" in scoring.failure_kind(expect, seen)


def test_a_refused_message_is_judged_refused():
    item = data.Item("a", "typos", "dev", "en", ("q1", "q2"), data.Expectation("greet"))
    result = scoring.judge(item, conversation((user("q1"), NOT_FOUND)), [0.1, 0.1])
    assert (result.seen.kind, result.category) == ("refused", "other")


# ---- tables and the RESULTS.md section --------------------------------------------------


def result(group: str, split: str, category: str, ms: float) -> scoring.Result:
    item = data.Item("i", group, split, "en", ("q",), data.Expectation("greet"))
    return scoring.Result(item, scoring.Observation("greet"), category, [ms / 1000])


def test_summary_rows_per_group_and_split_then_all():
    results = [
        result("typos", "dev", "right", 100),
        result("typos", "dev", "buttons", 300),
        result("typos", "test", "right", 200),
        result("start", "test", "other", 400),
    ]
    rows = summarise(results)
    assert [(r.group, r.split, r.n) for r in rows] == [
        ("typos", "dev", 2),
        ("all", "dev", 2),
        ("typos", "test", 1),
        ("start", "test", 1),
        ("all", "test", 2),
    ]
    assert rows[0].rate("right") == 0.5 and rows[0].p50_ms == 200
    table = markdown_table(rows)
    assert "| typos | dev | 2 | 0.500 | 0.500 | 0.000 | 0.000 | 0.000 | 200 | 300 |" in table


def test_channel_subset_mixes_groups_and_leaves_out_start_payloads(items):
    subset = data.channel_subset([i for i in items if i.split == "test"], 30)
    assert len(subset) == 30
    assert "start" not in {i.group for i in subset}
    assert len({i.group for i in subset}) == len(data.GROUPS) - 1
    assert {"en", "zh", "zh-TW", "zh-HK"} <= {i.lang for i in subset}


def test_a_failure_whose_context_was_not_reached_says_so():
    events = conversation(
        (user("who won the football", "goodbye"), [bot("Goodbye", "utter_goodbye")]),
        (user("yes", "affirm"), [bot("OK.", "utter_anything_else"), action("action_listen")]),
    )
    item = data.parse_item(
        {
            "id": "yn",
            "group": "yes_no",
            "split": "dev",
            "lang": "en",
            "turns": ["who won the football", "yes"],
            "after": "not_answered",
            "expect": "handoff",
        }
    )
    result = scoring.judge(item, events, [0.1, 0.1])
    assert result.category == "other"
    assert result.context_reached is False
    assert result.failure_kind() == (
        "expected handoff, got acknowledged (NLU: affirm); "
        "context not reached (the turn before: goodbye)"
    )
    reached = conversation((user("q"), NOT_FOUND), (user("yes", "affirm"), HANDOFF))
    assert scoring.judge(item, reached, [0.1, 0.1]).context_reached is True


def test_after_needs_a_conversation():
    raw = {"id": "a", "group": "yes_no", "split": "dev", "lang": "en", "text": "yes"}
    with pytest.raises(data.DataError, match="after needs turns"):
        data.parse_item({**raw, "after": "not_answered", "expect": "handoff"})


def test_failure_kinds_tell_buttons_from_a_clarification_without_the_entry():
    seen = scoring.observe([user("coupon"), *clarified("member_coupon_get", "member_coupon_rules")])
    with_it = data.Expectation("answer", ("member_coupon_get",))
    without = data.Expectation("answer", ("order_track",))
    assert "among the buttons" in scoring.failure_kind(with_it, seen)
    assert "clarify without the entry" in scoring.failure_kind(without, seen)


def test_replies_are_judged_for_the_customers_language_and_script():
    assert scoring.reply_fits("en", ["Sign in and open My orders"]) is True
    assert scoring.reply_fits("en", ["登录后进入「我的订单」"]) is False
    assert scoring.reply_fits("zh", ["登录后进入「我的订单」"]) is True
    assert scoring.reply_fits("zh", ["I'm not sure which of these you mean."]) is False
    assert scoring.reply_fits("zh-TW", ["登入後進入「我的訂單」"]) is True
    assert scoring.reply_fits("zh-HK", ["登录后进入「我的订单」"]) is False
    assert scoring.reply_fits("zh-TW", [""]) is None
