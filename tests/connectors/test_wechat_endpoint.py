"""The callback URL's behaviour: signatures first, safe mode, the 5-second rule and retries.

Rasa is replaced here by a scripted turn (what the bot says, and how long it takes); the
same flows run against the real Rasa server in tests/integration/test_wechat.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest

from connectors.wechat_mp.crypto import sign
from connectors.wechat_mp.endpoint import (
    UNSUPPORTED_TYPE,
    CallbackEndpoint,
    WeChatConfig,
)
from connectors.wechat_mp.state import MemoryState
from testkit.fake_wechat import (
    APP_ID,
    APP_SECRET,
    ENCODING_AES_KEY,
    TOKEN,
    WeChatCallbacks,
)


@dataclass
class ScriptedBot:
    delay: float = 0.0
    answer: list[dict] = field(default_factory=lambda: [{"text": "您好，这是答案。"}])
    turns: list[tuple[str, str, dict]] = field(default_factory=list)

    async def __call__(self, sender: str, text: str, metadata: dict) -> list[dict]:
        self.turns.append((sender, text, metadata))
        await asyncio.sleep(self.delay)
        return self.answer


@pytest.fixture(params=["plaintext", "safe"])
def mode(request):
    return request.param


@pytest.fixture
def wechat(mode):
    return WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY if mode == "safe" else "")


@pytest.fixture
def bot():
    return ScriptedBot()


@pytest.fixture
async def endpoint(mode, bot, fake_url, client):
    config = WeChatConfig(
        token=TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        encoding_aes_key=ENCODING_AES_KEY if mode == "safe" else "",
        api_base_url=fake_url,
        reply_deadline=0.5,
    )
    endpoint = CallbackEndpoint(config, bot, MemoryState(), client)
    endpoint.ledger.grace = 2.0
    yield endpoint
    await endpoint.drain()


def test_url_verification_answers_echostr_only_when_signed():
    endpoint = CallbackEndpoint(WeChatConfig(token=TOKEN), ScriptedBot())
    query, _ = WeChatCallbacks().request({"FromUserName": "o", "MsgType": "text"})
    reply = endpoint.verify_url({**query, "echostr": "shr5ch"})
    assert (reply.status, reply.body) == (200, "shr5ch")
    forged = endpoint.verify_url({**query, "echostr": "shr5ch", "nonce": "1"})
    assert forged.status == 403 and "shr5ch" not in forged.body


async def test_a_quick_answer_is_a_passive_reply(endpoint, bot, wechat, fake):
    reply = await endpoint.handle(*wechat.request(wechat.text("oCustomer", "怎么退货", "1001")))
    fields = wechat.open_reply(reply.body)
    assert reply.status == 200
    assert fields["Content"] == "您好，这是答案。"
    assert (fields["ToUserName"], fields["MsgType"]) == ("oCustomer", "text")
    assert [t[:2] for t in bot.turns] == [("oCustomer", "怎么退货")]
    await endpoint.drain()
    assert fake.sent == []


async def test_a_slow_answer_is_success_then_a_customer_service_message(
    endpoint, bot, wechat, fake
):
    bot.delay = 1.0
    started = time.monotonic()
    reply = await endpoint.handle(*wechat.request(wechat.text("oCustomer", "怎么退货", "1002")))
    assert reply.body == "success"
    assert time.monotonic() - started < 0.9
    await endpoint.drain()
    assert [(s.touser, s.content) for s in fake.sent] == [("oCustomer", "您好，这是答案。")]


async def test_three_concurrent_tries_make_one_turn_and_one_answer(endpoint, bot, wechat, fake):
    bot.delay = 0.2
    request = wechat.request(wechat.text("oCustomer", "怎么退货", "1003"))
    replies = await asyncio.gather(*(endpoint.handle(*request) for _ in range(3)))
    await endpoint.drain()
    answers = [wechat.open_reply(r.body) for r in replies]
    assert len(bot.turns) == 1
    assert sum(a is not None for a in answers) + len(fake.sent) == 1


async def test_retries_after_a_timeout_make_one_turn_and_one_answer(endpoint, bot, wechat, fake):
    """WeChat's way: each try gives up after 5 s (here the deadline) and the next comes."""
    bot.delay = 1.2
    request = wechat.request(wechat.text("oCustomer", "怎么退货", "1004"))
    replies = [await endpoint.handle(*request) for _ in range(3)]
    await endpoint.drain()
    assert len(bot.turns) == 1
    passive = [wechat.open_reply(r.body) for r in replies]
    assert sum(p is not None for p in passive) + len(fake.sent) == 1


async def test_a_retry_after_the_answer_gets_success_not_a_second_answer(endpoint, bot, wechat):
    request = wechat.request(wechat.text("oCustomer", "怎么退货", "1005"))
    first = await endpoint.handle(*request)
    again = await endpoint.handle(*request)
    assert wechat.open_reply(first.body) is not None
    assert again.body == "success"
    assert len(bot.turns) == 1


async def test_a_failed_turn_is_run_again_by_the_next_try(endpoint, bot, wechat):
    calls = []

    async def flaky(sender, text, metadata):
        calls.append(text)
        if len(calls) == 1:
            raise RuntimeError("Rasa was restarting")
        return [{"text": "ok"}]

    endpoint._run_turn = flaky
    request = wechat.request(wechat.text("oCustomer", "hi", "1006"))
    assert (await endpoint.handle(*request)).body == "success"
    await endpoint.drain()
    assert wechat.open_reply((await endpoint.handle(*request)).body)["Content"] == "ok"
    assert calls == ["hi", "hi"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q, b: ({**q, "signature": "0" * 40}, b),
        lambda q, b: ({**q, "nonce": q["nonce"] + "1"}, b),
        lambda q, b: ({k: v for k, v in q.items() if k != "signature"}, b),
    ],
)
async def test_forged_requests_get_403_and_never_reach_rasa(endpoint, bot, wechat, tamper):
    query, body = tamper(*wechat.request(wechat.text("oCustomer", "hi", "1007")))
    reply = await endpoint.handle(query, body)
    assert reply.status == 403
    assert bot.turns == []


@pytest.mark.parametrize("age", [301, -301, 86400])
async def test_stale_or_future_timestamps_get_403(endpoint, bot, wechat, age):
    query, body = wechat.request(wechat.text("o", "hi", "1008"), timestamp=int(time.time()) - age)
    assert (await endpoint.handle(query, body)).status == 403
    assert bot.turns == []


async def test_safe_mode_checks_the_message_signature_and_refuses_plaintext(bot):
    safe = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
    config = WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=ENCODING_AES_KEY)
    endpoint = CallbackEndpoint(config, bot)
    query, body = safe.request(safe.text("o", "hi", "2001"))
    assert (await endpoint.handle({**query, "msg_signature": "0" * 40}, body)).status == 403
    assert (await endpoint.handle({**query, "encrypt_type": "raw"}, body)).status == 403
    plain_query, plain_body = WeChatCallbacks().request(WeChatCallbacks().text("o", "hi", "2002"))
    assert (await endpoint.handle(plain_query, plain_body)).status == 403
    other_app = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY, app_id="wx0000000000000000")
    assert (
        await endpoint.handle(*other_app.request(other_app.text("o", "hi", "2003")))
    ).status == 403
    assert bot.turns == []


async def test_an_entity_bomb_with_valid_signatures_is_refused(endpoint, bot, wechat, mode):
    query, _ = wechat.request(wechat.text("o", "hi", "1009"))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>"
        b"<Content>&b;</Content></xml>"
    )
    bodies = [bomb]
    if mode == "safe":  # the bomb as the envelope, and inside a correctly signed envelope
        encrypt = wechat.crypto.encrypt(bomb)
        query["msg_signature"] = sign(TOKEN, query["timestamp"], query["nonce"], encrypt)
        bodies.append(f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode())
    for body in bodies:
        assert (await endpoint.handle(query, body)).status == 400
    assert bot.turns == []


async def test_an_oversized_body_is_refused(endpoint, bot, wechat):
    query, _ = wechat.request(wechat.text("o", "hi", "1010"))
    assert (await endpoint.handle(query, b"<xml>" + b"a" * 70_000 + b"</xml>")).status == 413
    assert bot.turns == []


async def test_subscribe_is_welcomed_and_unsubscribe_noted_silently(endpoint, bot, wechat, fake):
    now = int(time.time())
    welcome = await endpoint.handle(*wechat.request(wechat.event("oNew", "subscribe", now)))
    assert wechat.open_reply(welcome.body)["Content"] == "您好，这是答案。"
    bye = await endpoint.handle(*wechat.request(wechat.event("oNew", "unsubscribe", now + 1)))
    assert bye.body == "success"
    await endpoint.drain()
    assert [t[1] for t in bot.turns] == ["/subscribe", "/unsubscribe"]
    assert bot.turns[1][2]["wechat"]["event"] == "unsubscribe"
    assert fake.sent == []


async def test_voice_is_read_as_its_recognition(endpoint, bot, wechat):
    voice = {
        "FromUserName": "o",
        "MsgType": "voice",
        "MediaId": "m",
        "Recognition": "怎么退货",
        "MsgId": "1011",
    }
    await endpoint.handle(*wechat.request(voice))
    silent = {**voice, "Recognition": "", "MsgId": "1012"}
    reply = await endpoint.handle(*wechat.request(silent))
    assert [t[1] for t in bot.turns] == ["怎么退货"]
    assert "语音" in wechat.open_reply(reply.body)["Content"]


async def test_an_image_gets_a_polite_text_without_a_turn(endpoint, bot, wechat):
    image = {
        "FromUserName": "o",
        "MsgType": "image",
        "PicUrl": "http://x/y.jpg",
        "MediaId": "m",
        "MsgId": "1013",
    }
    reply = await endpoint.handle(*wechat.request(image))
    assert wechat.open_reply(reply.body)["Content"] == UNSUPPORTED_TYPE
    assert bot.turns == []


async def test_buttons_become_numbers_and_a_number_picks_the_button(endpoint, bot, wechat):
    bot.answer = [
        {
            "text": "您是想问：",
            "buttons": [
                {"title": "如何退货", "payload": '/choose_faq{"faq_choice": "returns"}'},
                {"title": "如何换货", "payload": '/choose_faq{"faq_choice": "exchange"}'},
            ],
        }
    ]
    reply = await endpoint.handle(*wechat.request(wechat.text("oCustomer", "退", "1014")))
    assert (
        wechat.open_reply(reply.body)["Content"]
        == "您是想问：\n1. 如何退货\n2. 如何换货\n（回复数字即可选择）"
    )
    bot.answer = [{"text": "换货这样办理。"}]
    await endpoint.handle(*wechat.request(wechat.text("oCustomer", "２", "1015")))
    assert bot.turns[1][1] == '/choose_faq{"faq_choice": "exchange"}'
    await endpoint.handle(*wechat.request(wechat.text("oCustomer", "2", "1016")))
    assert bot.turns[2][1] == "2"  # choices are forgotten once the bot has said something else


async def test_an_answer_too_long_for_a_passive_reply_goes_through_the_api(
    endpoint, bot, wechat, fake
):
    bot.answer = [{"text": "很长的回答。" * 200}]
    reply = await endpoint.handle(*wechat.request(wechat.text("oCustomer", "详细说明", "1017")))
    assert reply.body == "success"
    await endpoint.drain()
    assert "".join(s.content for s in fake.sent) == "很长的回答。" * 200


def test_configuration_errors_are_clear():
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        WeChatConfig.from_credentials({"token": ""})
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeChatConfig.from_credentials({"token": "t", "app_id": "wx", "encoding_aes_key": "short"})
    with pytest.raises(ValueError, match="WECHAT_APP_ID"):
        WeChatConfig.from_credentials({"token": "t", "encoding_aes_key": ENCODING_AES_KEY})
    with pytest.raises(ValueError, match="reply_deadline"):
        WeChatConfig.from_credentials({"token": "t", "reply_deadline": "6"})
    config = WeChatConfig.from_credentials({"token": "t", "replay_window": "60", "redis_url": ""})
    assert (config.replay_window, config.redis_url, config.reply_deadline) == (60.0, "", 4.0)
