"""Traditional Chinese end to end over REST: understood, and answered in the customer's script
and region (the FAQ's Simplified text converted, the domain's generated responses)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml

from faq_index import load_index
from faq_index.chinese import to_traditional

pytestmark = pytest.mark.integration

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def response(name: str, locale: str) -> dict:
    for variation in yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"][name]:
        if {"type": "slot", "name": "language", "value": locale} in variation.get("condition", []):
            return variation
    raise LookupError(f"{name} has no {locale} variation")


@pytest.fixture(scope="module")
def faq(assistant):
    return load_index(os.environ["FAQ_INDEX_DIR"])  # the stack's copy


def test_a_taiwanese_question_is_answered_in_taiwans_traditional(assistant, faq):
    sender = new_sender()
    replies = assistant.send("忘記密碼怎麼辦", sender)
    simplified = faq.entry("account_password_reset").texts["zh"].answer
    assert replies[0]["text"].startswith(to_traditional(simplified, "zh-TW"))
    assert replies[-1]["text"] == response("utter_ask_feedback", "zh-TW")["text"]
    state = assistant.tracker(sender)["slots"]
    assert state["language"] == "zh-TW" and state["faq_id"] == "account_password_reset"


def test_a_cantonese_question_is_answered_in_hong_kongs_traditional(assistant, faq):
    sender = new_sender()
    replies = assistant.send("收唔到驗證碼", sender)
    simplified = faq.entry("account_verification_code").texts["zh"].answer
    assert replies[0]["text"].startswith(to_traditional(simplified, "zh-HK"))
    assert assistant.tracker(sender)["slots"]["language"] == "zh-HK"


def test_a_hong_kong_page_is_greeted_in_hong_kongs_traditional(assistant):
    sender = new_sender()
    replies = assistant.send("你好", sender, metadata={"language": "zh-Hant-HK"})
    assert replies[0]["text"] == response("utter_greet", "zh-HK")["text"]
    assert assistant.tracker(sender)["slots"]["language"] == "zh-HK"
