"""The question inside a message wrapped in courtesy, yes or no."""

from __future__ import annotations

import pytest

from bot.domain.dialogue.courtesy import question_in


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("thanks. also how do I return a jacket?", "how do I return a jacket?"),
        ("Thank you so much! Also, can I pay with PayPal?", "can I pay with PayPal?"),
        ("ok so how long does the refund take", "how long does the refund take"),
        ("no the package never came", "the package never came"),
        ("no, I meant the refund", "the refund"),
        ("hi, where is my order?", "where is my order?"),
        ("where is my order? thanks", "where is my order"),
        ("好的，那么退款要多久", "退款要多久"),
        ("不，我是说退款", "退款"),
        ("謝謝，另外保固多久", "保固多久"),
        ("谢谢那么运费谁出", "运费谁出"),
    ],
)
def test_courtesy_around_a_question_is_left_out(text, question):
    assert question_in(text) == question


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "ok",
        "yes",
        "Nope",
        "no thanks",
        "yes please",
        "thanks, bye",
        "k",
        "hello",
        "好的谢谢",
        "不用了，谢谢",
        "谢谢，再见",
        "謝謝！",
        "嗯嗯",
        "👍",
    ],
)
def test_a_message_that_is_only_courtesy_holds_no_question(text):
    assert question_in(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "forgot my pasword",
        "没有收到货怎么办",  # 没有 starts the question: no separator after it
        "好评返现怎么领",
        "that didn't help",
        "it has been 10 days and my parcel has not arrived",
        "已经10天了快递还没到",
        "nothing arrived",
        "okra seeds in stock?",
        '/choose_faq{"faq_choice": "order_track"}',
    ],
)
def test_questions_without_courtesy_keep_every_word(text):
    assert question_in(text) == text
