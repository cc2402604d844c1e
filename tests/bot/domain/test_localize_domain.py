"""The domain's Traditional Chinese responses: generated from the Simplified ones, up to date."""

from __future__ import annotations

import difflib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.domain.dialogue.localize_domain import DomainLayoutError, localize, main
from faq_index.chinese import to_traditional
from vocabulary import LOCALES, TRADITIONAL_LOCALES

REPO = Path(__file__).resolve().parents[3]
DOMAIN = REPO / "domain.yml"

SMALL = textwrap.dedent(
    """\
    version: "3.1"
    # a comment that stays
    slots:
      language:
        type: categorical
        values: [en, zh, zh-TW, zh-HK]
    responses:
      utter_greet:
        - condition:
            - type: slot
              name: language
              value: zh
          text: 您好！我是智能客服。
        - text: Hi!

      # handing over
      utter_not_found:
        - condition:
            - type: slot
              name: language
              value: zh
            - type: slot
              name: handoff_ticket
              value: null
          text: "没有找到答案，需要转人工吗？（工单 {ticket}）"
          buttons:
            - title: 转人工客服
              payload: /request_human
            - title: "5"
              payload: '/rate{"rating": 5}'
        - text: Sorry.
      utter_english_only:
        - text: Only English here.
    session_config:
      session_expiration_time: 60
    """
)


def variations(domain_text: str, response: str) -> dict[str | None, dict]:
    by_language = {}
    for variation in yaml.safe_load(domain_text)["responses"][response]:
        language = next(
            (c["value"] for c in variation.get("condition", []) if c["name"] == "language"), None
        )
        by_language[language] = variation
    return by_language


def test_each_zh_variation_gets_one_for_taiwan_and_one_for_hong_kong():
    localized = localize(SMALL)
    greet = variations(localized, "utter_greet")
    assert set(greet) == {"zh", "zh-TW", "zh-HK", None}
    assert greet["zh-TW"]["text"] == "您好！我是智慧客服。"  # s2twp: Taiwan's word
    assert greet["zh-HK"]["text"] == "您好！我是智能客服。"  # s2hk
    found = variations(localized, "utter_not_found")
    taiwan = found["zh-TW"]
    assert taiwan["text"] == "沒有找到答案，需要轉人工嗎？（工單 {ticket}）"
    assert taiwan["buttons"] == [
        {"title": "轉人工客服", "payload": "/request_human"},
        {"title": "5", "payload": '/rate{"rating": 5}'},  # payloads are copied
    ]
    assert taiwan["condition"][1] == {"type": "slot", "name": "handoff_ticket", "value": None}
    assert variations(localized, "utter_english_only") == {None: {"text": "Only English here."}}


def test_the_rest_of_the_domain_is_left_as_it_was():
    before, after = SMALL.splitlines(), localize(SMALL).splitlines()
    changes = difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes()
    assert {tag for tag, *_ in changes} == {"equal", "insert"}  # only lines added
    added = [line for tag, _, _, j1, j2 in changes if tag == "insert" for line in after[j1:j2]]
    assert added and all(line.startswith("    ") for line in added)


def test_generation_is_idempotent_and_replaces_edited_variations():
    once = localize(SMALL)
    assert localize(once) == once
    edited = once.replace("您好！我是智慧客服。", "您好！手改的。")
    assert localize(edited) == once
    changed = once.replace("您好！我是智能客服。", "您好！欢迎光临。", 1)
    assert variations(localize(changed), "utter_greet")["zh-TW"]["text"] == "您好！歡迎光臨。"


def test_a_domain_without_responses_is_refused():
    with pytest.raises(DomainLayoutError):
        localize("version: '3.1'\nintents: [greet]\n")


def test_check_fails_when_the_domain_is_out_of_date(tmp_path, capsys):
    path = tmp_path / "domain.yml"
    path.write_text(SMALL, encoding="utf-8")
    assert main(["--domain", str(path), "--check"]) == 1
    assert "localize_domain" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == SMALL  # --check changes nothing
    assert main(["--domain", str(path)]) == 0
    assert main(["--domain", str(path), "--check"]) == 0


def test_the_shipped_domain_is_up_to_date():
    done = subprocess.run(
        [sys.executable, "-m", "bot.domain.dialogue.localize_domain", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_every_shipped_response_speaks_every_locale():
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    assert domain["slots"]["language"]["values"] == list(LOCALES)
    for name in domain["responses"]:
        found = variations(DOMAIN.read_text(encoding="utf-8"), name)
        assert set(found) >= {"zh", None}, f"{name} needs a zh variation and an English default"
        for locale in TRADITIONAL_LOCALES:
            assert found[locale]["text"] == to_traditional(found["zh"]["text"], locale), name
    head = DOMAIN.read_text(encoding="utf-8").split("intents:")[0]
    assert "GENERATED" in head and "bot.domain.dialogue.localize_domain" in head
