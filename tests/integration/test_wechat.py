"""The WeChat channel inside the real Rasa server, in safe mode, with WeChat's API faked on
loopback: encrypted passive replies, the 5-second rule, retries, refusals, and agents' replies
through the customer-service API."""

from __future__ import annotations

import asyncio
import http.client
import time
import urllib.parse
import uuid

import pytest
from sqlalchemy import select

from bot.store.db import create_engine, session_factory
from bot.store.models import Customer, Identity
from connectors.wechat_mp.crypto import sign
from testkit.agents import add_agent
from testkit.fake_wechat import (
    ENCODING_AES_KEY,
    TOKEN,
    ThreadedFakeWeChat,
    WeChatCallbacks,
)
from tests.integration.conftest import Assistant
from tests.integration.test_handoff import PASSWORD, Console, until

pytestmark = pytest.mark.integration

WECHAT = WeChatCallbacks(encoding_aes_key=ENCODING_AES_KEY)
PATH = "/webhooks/wechat/webhook"


def openid() -> str:
    return f"o{uuid.uuid4().hex[:27]}"


def post(assistant: Assistant, query: dict, body: bytes, timeout: float = 30.0):
    """POST a callback as WeChat does; (status, body). A timeout drops the connection."""
    host, port = assistant.settings.servers.host, assistant.settings.servers.rasa_port
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(
            "POST",
            f"{PATH}?{urllib.parse.urlencode(query)}",
            body=body,
            headers={"Content-Type": "text/xml"},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def user_texts(assistant: Assistant, sender: str) -> list[str]:
    return [e["text"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def sent_to(fake_wechat: ThreadedFakeWeChat, sender: str) -> list[str]:
    return [s.content for s in list(fake_wechat.fake.sent) if s.touser == sender]


def test_url_verification(assistant: Assistant):
    query, _ = WECHAT.request({"FromUserName": "o", "MsgType": "text"})
    host, port = assistant.settings.servers.host, assistant.settings.servers.rasa_port
    for extra, expected in [({}, (200, b"shr5ch")), ({"nonce": "0"}, (403, None))]:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        params = urllib.parse.urlencode({**query, "echostr": "shr5ch", **extra})
        connection.request("GET", f"{PATH}?{params}")
        response = connection.getresponse()
        body = response.read()
        assert response.status == expected[0]
        assert expected[1] is None or body == expected[1]
        connection.close()


def test_an_encrypted_question_gets_an_encrypted_passive_answer(assistant: Assistant):
    sender = openid()
    status, body = post(assistant, *WECHAT.request(WECHAT.text(sender, "怎么申请退货？", "9001")))
    assert status == 200
    reply = WECHAT.open_reply(body)  # checks MsgSignature, then decrypts
    assert reply is not None, "the bot answered within the deadline, passively"
    assert reply["ToUserName"] == sender and reply["MsgType"] == "text"
    assert "退" in reply["Content"]
    tracker = assistant.tracker(sender)
    latest = tracker["latest_message"]
    assert latest["text"] == "怎么申请退货？"
    assert tracker["latest_input_channel"] == "wechat"


def test_a_slow_answer_gets_success_then_a_customer_service_message(
    assistant: Assistant, fake_wechat: ThreadedFakeWeChat
):
    sender = openid()
    request = WECHAT.request(WECHAT.text(sender, "How do I reset my password?", "9002"))
    with assistant.actions_paused():
        started = time.monotonic()
        status, body = post(assistant, *request)
        waited = time.monotonic() - started
    assert (status, body) == (200, b"success")
    assert 3.5 < waited < 5.0, "answered just before WeChat's 5 seconds"
    sent = until(lambda: sent_to(fake_wechat, sender), what="the customer-service message")
    assert "password" in sent[0].lower()
    assert user_texts(assistant, sender) == ["How do I reset my password?"]


def test_three_tries_of_one_message_make_one_turn_and_one_answer(
    assistant: Assistant, fake_wechat: ThreadedFakeWeChat
):
    """WeChat's retries: each try gives up (drops the connection) and the next comes."""
    sender = openid()
    request = WECHAT.request(WECHAT.text(sender, "Where is my order?", "9003"))
    answers = []
    with assistant.actions_paused():
        for _ in range(2):
            with pytest.raises(TimeoutError):
                post(assistant, *request, timeout=1.0)
    status, body = post(assistant, *request)  # the third try, after the bot woke up
    assert status == 200
    if WECHAT.open_reply(body) is not None:
        answers.append(WECHAT.open_reply(body)["Content"])
    time.sleep(2.0)  # anything still to come through the API would be on its way
    answers += sent_to(fake_wechat, sender)
    assert len(answers) == 1, answers
    assert user_texts(assistant, sender) == ["Where is my order?"]


def test_forged_and_stale_callbacks_get_403_and_never_reach_rasa(assistant: Assistant):
    sender = openid()
    query, body = WECHAT.request(WECHAT.text(sender, "hi", "9004"))
    assert post(assistant, {**query, "signature": "0" * 40}, body)[0] == 403
    assert post(assistant, {**query, "msg_signature": "0" * 40}, body)[0] == 403
    stale_query, stale_body = WECHAT.request(
        WECHAT.text(sender, "hi", "9005"), timestamp=int(time.time()) - 3600
    )
    assert post(assistant, stale_query, stale_body)[0] == 403
    assert user_texts(assistant, sender) == []


def test_an_entity_bomb_and_a_10_mb_body_are_refused(assistant: Assistant):
    sender = openid()
    query, _ = WECHAT.request(WECHAT.text(sender, "hi", "9006"))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<xml><ToUserName>gh</ToUserName><FromUserName>" + sender.encode() + b"</FromUserName>"
        b"<MsgType>text</MsgType><Content>&c;</Content></xml>"
    )
    encrypt = WECHAT.crypto.encrypt(bomb)  # signed and encrypted correctly: only the XML is bad
    signed = {**query, "msg_signature": sign(TOKEN, query["timestamp"], query["nonce"], encrypt)}
    envelope = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    assert post(assistant, signed, envelope)[0] == 400

    host, port = assistant.settings.servers.host, assistant.settings.servers.rasa_port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", f"{PATH}?{urllib.parse.urlencode(query)}")
    connection.putheader("Content-Length", str(10 * 1024 * 1024))
    connection.endheaders()  # refused on the declared length, before any of it is read
    assert connection.getresponse().status == 413
    connection.close()

    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", f"{PATH}?{urllib.parse.urlencode(query)}")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b"<xml>" + b"a" * 32_000
    for _ in range(4):  # no length declared: refused once what arrived passes the bound
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    assert connection.getresponse().status == 413
    connection.close()
    assert user_texts(assistant, sender) == []


def test_following_is_welcomed_and_unfollowing_is_noted_in_the_profile(
    assistant: Assistant, fake_wechat: ThreadedFakeWeChat
):
    sender = openid()
    now = int(time.time())
    status, body = post(assistant, *WECHAT.request(WECHAT.event(sender, "subscribe", now)))
    welcome = WECHAT.open_reply(body)
    assert status == 200 and welcome is not None
    assert "您好" in welcome["Content"]  # WeChat's customers are greeted in Chinese
    status, body = post(assistant, *WECHAT.request(WECHAT.event(sender, "unsubscribe", now + 1)))
    assert (status, body) == (200, b"success")

    async def unsubscribed_at():
        engine = create_engine(assistant.settings.database.database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(
                    select(Customer.unsubscribed_at)
                    .join(Identity, Identity.customer_id == Customer.id)
                    .where(Identity.kind == "wechat", Identity.value == sender)
                )
        finally:
            await engine.dispose()

    assert until(lambda: asyncio.run(unsubscribed_at()), what="the unfollow in the profile")
    time.sleep(1.0)
    assert sent_to(fake_wechat, sender) == []  # nothing is sent to someone who left


def test_an_image_gets_a_polite_answer_without_a_turn(assistant: Assistant):
    sender = openid()
    image = {
        "FromUserName": sender,
        "MsgType": "image",
        "PicUrl": "http://x/y.jpg",
        "MsgId": "9007",
    }
    reply = WECHAT.open_reply(post(assistant, *WECHAT.request(image))[1])
    assert "文字" in reply["Content"]
    assert user_texts(assistant, sender) == []


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Console:
    asyncio.run(add_agent(assistant.settings.database.database_url, "zhao", "Zhao Lei", PASSWORD))
    return Console(assistant.settings.servers.web_url, "zhao")


def test_agents_replies_reach_wechat_and_a_closed_window_is_shown(
    assistant: Assistant, fake_wechat: ThreadedFakeWeChat, console: Console
):
    sender = openid()
    status, body = post(assistant, *WECHAT.request(WECHAT.text(sender, "转人工", "9008")))
    assert status == 200 and WECHAT.open_reply(body) is not None
    ticket_id = int(until(lambda: assistant.tracker(sender)["slots"]["handoff_ticket"]))

    console.call(
        "POST", f"/api/tickets/{ticket_id}/reply", {"text": "您好，我是赵磊，马上为您查询。"}
    )
    assert until(lambda: sent_to(fake_wechat, sender), what="the agent's reply at WeChat") == [
        "您好，我是赵磊，马上为您查询。"
    ]
    until(
        lambda: console.call("GET", f"/api/tickets/{ticket_id}")["replies"][0]["delivered_at"],
        what="the reply marked delivered",
    )

    fake_wechat.call(fake_wechat.fake.script.append, 45015)  # 48 hours without a message
    console.call("POST", f"/api/tickets/{ticket_id}/reply", {"text": "请问还需要帮助吗？"})
    refused = until(
        lambda: (
            console.call("GET", f"/api/tickets/{ticket_id}")["replies"][1]["failed_at"]
            and console.call("GET", f"/api/tickets/{ticket_id}")["replies"][1]
        ),
        what="the refusal recorded on the reply",
    )
    assert "48 hours" in refused["last_error"] and refused["delivered_at"] is None
    with console.opener.open(f"{console.base}/console/tickets/{ticket_id}", timeout=30) as page:
        html = page.read().decode()
    undelivered = html.split('id="undelivered"', 1)[1].split("</ul>", 1)[0]
    assert "请问还需要帮助吗？" in undelivered and "48 hours" in undelivered
    assert sent_to(fake_wechat, sender) == ["您好，我是赵磊，马上为您查询。"]

    console.call("POST", f"/api/tickets/{ticket_id}/reply", {"text": "订单已发出。"})
    until(lambda: len(sent_to(fake_wechat, sender)) == 2, what="later replies still delivered")
