"""The customer-service API client against the fake WeChat API on loopback."""

from __future__ import annotations

import asyncio

import pytest

from connectors.refusals import Undeliverable, undeliverable_reason
from connectors.wechat_mp.client import CustomerServiceClient, WeChatApiError, split_text
from connectors.wechat_mp.state import MemoryState
from testkit.fake_wechat import APP_ID


async def test_the_token_is_fetched_once_and_reused(client, fake):
    for n in range(3):
        await client.send_text("oCustomer", f"message {n}")
    assert fake.token_requests == 1
    assert [s.content for s in fake.sent] == ["message 0", "message 1", "message 2"]


async def test_concurrent_sends_share_one_refresh(client, fake):
    fake.token_delay = 0.2
    await asyncio.gather(*(client.send_text(f"o{n}", "hi") for n in range(10)))
    assert fake.token_requests == 1
    assert len(fake.sent) == 10


@pytest.mark.parametrize("code", [40001, 40014, 42001])
async def test_a_refused_token_is_renewed_and_the_send_repeated_once(client, fake, code):
    await client.send_text("oCustomer", "first")
    fake.script = [code]
    await client.send_text("oCustomer", "second")
    assert fake.token_requests == 2
    assert [s.content for s in fake.sent] == ["first", "second"]


async def test_an_expired_token_is_noticed(client, fake):
    await client.send_text("oCustomer", "first")
    fake.expire_token()
    await client.send_text("oCustomer", "second")
    assert fake.token_requests == 2 and len(fake.sent) == 2


async def test_the_token_is_renewed_before_it_expires(fake_url, fake):
    clock = {"now": 0.0}
    state = MemoryState(clock=lambda: clock["now"])
    client = CustomerServiceClient(APP_ID, "test-app-secret", state, fake_url, refresh_margin=300)
    try:
        await client.send_text("o", "a")
        clock["now"] = 7200 - 301.0
        await client.send_text("o", "b")
        assert fake.token_requests == 1
        clock["now"] = 7200 - 299.0
        await client.send_text("o", "c")
        assert fake.token_requests == 2
    finally:
        await client.close()


async def test_busy_and_server_errors_are_retried_with_backoff(client, fake):
    fake.script = [-1, ("http", 502)]
    await client.send_text("oCustomer", "hello")
    assert [s.content for s in fake.sent] == ["hello"]
    assert fake.send_calls == 3


async def test_persistent_failure_raises_after_the_attempts(client, fake):
    fake.script = [-1, -1, -1]
    with pytest.raises(WeChatApiError):
        await client.send_text("oCustomer", "hello")
    assert fake.sent == []


async def test_the_48_hour_window_is_reported_as_undeliverable(client, fake):
    fake.script = [45015]
    with pytest.raises(Undeliverable) as refused:
        await client.send_text("oCustomer", "hello")
    assert fake.send_calls == 1  # not retried
    assert "48 hours" in refused.value.reason
    assert undeliverable_reason(f"Error: {refused.value}") == refused.value.reason


async def test_other_errors_are_not_hidden(client, fake):
    fake.script = [40008]
    with pytest.raises(WeChatApiError, match="40008"):
        await client.send_text("oCustomer", "hello")


async def test_a_long_chinese_text_arrives_in_pieces_within_the_limit(client, fake):
    text = "您好，" * 1000  # 9000 bytes
    await client.send_text("oCustomer", text)
    assert "".join(s.content for s in fake.sent) == text
    assert all(len(s.content.encode()) <= 2048 for s in fake.sent)
    assert len(fake.sent) == 5


def test_split_prefers_line_breaks_and_keeps_every_character():
    text = "\n".join(f"第{n}行：" + "字" * 100 for n in range(40))
    pieces = split_text(text)
    assert all(len(p.encode()) <= 2048 for p in pieces)
    assert all(p.endswith("字") for p in pieces)
    assert "\n".join(pieces) == text


@pytest.mark.parametrize("text", ["", "short", "é" * 1024, "😀" * 600])
def test_split_never_breaks_a_character(text):
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= 2048 for p in pieces)


async def test_two_servers_sharing_redis_share_one_token(fake_url, fake):
    from tests.connectors.test_wechat_state import redis_state

    first_state = await redis_state()
    second_state = await redis_state(first_state.prefix)  # the same account, another server
    fake.token_delay = 0.2
    clients = [
        CustomerServiceClient(APP_ID, "test-app-secret", state, fake_url)
        for state in (first_state, second_state)
    ]
    try:
        await asyncio.gather(*(c.send_text(f"o{n}", "hi") for n in range(4) for c in clients))
        assert fake.token_requests == 1
        assert len(fake.sent) == 8
    finally:
        for client, state in zip(clients, (first_state, second_state), strict=True):
            await client.close()
            await state.close()
