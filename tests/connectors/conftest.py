"""The fake WeChat API and a client pointed at it."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from connectors.wechat_mp.client import CustomerServiceClient
from connectors.wechat_mp.state import MemoryState
from testkit.fake_wechat import APP_ID, APP_SECRET, FakeWeChat


@pytest.fixture
def fake() -> FakeWeChat:
    return FakeWeChat()


@pytest.fixture
async def fake_url(fake):
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def client(fake_url):
    client = CustomerServiceClient(APP_ID, APP_SECRET, MemoryState(), fake_url, backoff=0.01)
    yield client
    await client.close()
