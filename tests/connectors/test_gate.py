"""The input gate: what no channel lets through to Rasa, and what it tells the customer."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.gate import MAX_METADATA_BYTES, MAX_SENDER_CHARS, Refused, admit, message_limit
from connectors.widget_session import valid_secret, widget_sender_id

LIMIT = 1000


def refusal(sender: object, text: object, metadata: object = None) -> Refused:
    with pytest.raises(Refused) as caught:
        admit(sender, text, metadata, LIMIT)
    return caught.value


@pytest.mark.parametrize(
    "sender",
    [
        "x\udc80y",
        "\ud800",
        "",
        " padded ",
        "a" * (MAX_SENDER_CHARS + 1),
        "nul\x00",
        "tab\t",
        None,
        7,
        ["list"],
        {"a": 1},
        "line\nbreak",
    ],
)
def test_a_sender_id_that_is_not_one_is_refused_without_a_reply(sender):
    refused = refusal(sender, "hello")
    assert (refused.code, refused.status, refused.reply) == ("bad_sender", 400, None)


@pytest.mark.parametrize("text", ["x\udc80y", "bell\x07", "nul\x00", "esc\x1b[31m", "\x85"])
def test_a_text_with_unreadable_characters_is_refused_with_a_reply(text):
    refused = refusal("web-1", text)
    assert (refused.code, refused.status) == ("bad_text", 400)
    assert refused.reply.startswith("I couldn't read that message")


@pytest.mark.parametrize("text", [None, 3, ["hi"], {"text": "hi"}])
def test_a_text_that_is_not_a_string_is_refused(text):
    assert refusal("web-1", text).code == "bad_text"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_message_is_asked_for_again_not_called_too_long(text):
    refused = refusal("web-1", text)
    assert (refused.code, refused.status) == ("empty", 400)
    assert "type your question" in refused.reply


def test_an_over_long_message_is_refused_before_nlu_in_the_customers_language():
    english = refusal("web-1", "where is my parcel " * 6000)
    assert (english.code, english.status) == ("too_long", 413)
    assert "at most 1000 characters" in english.reply
    chinese = refusal("web-1", "我的包裹在哪里" * 200)
    assert chinese.reply.startswith("您的消息太长了") and "1000" in chinese.reply
    page = refusal("web-1", "x" * 1001, {"language": "zh"})
    assert page.reply.startswith("您的消息太长了")


def test_line_breaks_and_tabs_are_fine_and_the_text_is_stripped():
    admitted = admit("web-1", "  first line\r\nsecond\tline  ", None, LIMIT)
    assert admitted.text == "first line\r\nsecond\tline"
    assert admit("web-1", "x" * LIMIT, None, LIMIT).text == "x" * LIMIT


@pytest.mark.parametrize(
    "metadata",
    [
        "a string",
        ["a", "list"],
        5,
        {"name": "\udc80"},
        {"blob": "x" * MAX_METADATA_BYTES},
        {"nan": float("nan")},
        {1: object()},
    ],
)
def test_metadata_must_be_a_small_json_object_of_utf8(metadata):
    refused = refusal("web-1", "hello", metadata)
    assert (refused.code, refused.status) == ("bad_metadata", 400)


def test_clients_cannot_set_the_keys_channels_set():
    admitted = admit("web-1", "hi", {"origin": "forged", "language": "zh"}, LIMIT)
    assert admitted.metadata == {"language": "zh"}


def test_the_limit_from_credentials_falls_back_to_the_default():
    assert message_limit("250") == 250
    assert message_limit("") == message_limit(None) == message_limit("-3") == 1000


def test_a_conversation_id_reveals_nothing_of_the_widgets_secret():
    secret = "0123456789abcdef" * 2
    sender = widget_sender_id(secret)
    assert sender.startswith("web-") and secret not in sender
    assert widget_sender_id(secret) == sender != widget_sender_id("f" * 32)
    assert valid_secret(secret) and not valid_secret(sender) and not valid_secret("oOpenID123")


# --- fuzz: nothing a client sends makes the gate raise anything but a refusal -------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
anything = (
    json_values
    | st.binary(max_size=40)
    | st.text(alphabet=st.characters(codec=None, categories=None), max_size=60)
)
surrogate_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=80)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sender=anything | surrogate_text,
    text=anything | surrogate_text | st.text(min_size=990, max_size=1100),
    metadata=json_values | st.dictionaries(surrogate_text, surrogate_text, max_size=3),
)
def test_fuzz_every_input_is_admitted_clean_or_refused_clearly(sender, text, metadata):
    try:
        admitted = admit(sender, text, metadata, LIMIT)
    except Refused as refused:
        assert 400 <= refused.status < 500
        assert refused.code and refused.detail
        if refused.reply is not None:
            refused.reply.encode("utf-8")
        return
    # What gets through can be stored by any tracker store and encoded by any channel.
    admitted.sender_id.encode("utf-8")
    admitted.text.encode("utf-8")
    assert 0 < len(admitted.text) <= LIMIT and admitted.text == admitted.text.strip()
    assert (
        len(json.dumps(admitted.metadata, ensure_ascii=False).encode("utf-8")) <= MAX_METADATA_BYTES
    )
    assert "origin" not in admitted.metadata
