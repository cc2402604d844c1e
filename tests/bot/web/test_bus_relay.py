"""Console notices reach the pages open on other web services, through a real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.domain.auth import create_agent
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.bus import EventBus
from bot.web.bus_relay import BusRelay
from bot.web.keys import BUS_RELAY
from tests.bot.conftest import PASSWORDS, a_ticket, sign_in

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture()
async def channel():
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set TEST_REDIS_URL")
    finally:
        await client.close()
    return f"test-console-notices-{uuid.uuid4().hex}"


@contextlib.asynccontextmanager
async def web_service(channel: str, redis_url: str = REDIS_URL):
    """A web service's bus and relay; yields the bus and a page's subscription."""
    bus = EventBus()
    relay = BusRelay(bus, redis_url, channel)
    task = asyncio.create_task(relay.run())
    try:
        if redis_url == REDIS_URL:
            await asyncio.wait_for(relay.subscribed.wait(), 10)
        yield bus, bus.subscribe()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_notice_reaches_pages_on_every_web_service_once(channel):
    async with web_service(channel) as (first, first_page), web_service(channel) as (_, page):
        first.publish("ticket", {"id": 7, "change": "created"})
        assert await asyncio.wait_for(page.get(), 5) == ("ticket", {"id": 7, "change": "created"})
        assert first_page.get_nowait() == ("ticket", {"id": 7, "change": "created"})
        first.publish("conversation", {"conversation": "web-1"})
        assert await asyncio.wait_for(page.get(), 5) == ("conversation", {"conversation": "web-1"})
        await asyncio.sleep(0.2)  # its own notice must not come back through Redis
        assert first_page.qsize() == 1


async def test_malformed_messages_on_the_channel_are_ignored(channel):
    async with web_service(channel) as (_, page):
        client = Redis.from_url(REDIS_URL)
        try:
            for junk in ["not json", "[]", json.dumps({"kind": 1, "data": {}, "origin": "x"})]:
                await client.publish(channel, junk)
            good = {"origin": "other", "kind": "agent", "data": {"id": 2, "status": "away"}}
            await client.publish(channel, json.dumps(good))
        finally:
            await client.close()
        assert await asyncio.wait_for(page.get(), 5) == ("agent", {"id": 2, "status": "away"})
        assert page.empty()


async def test_without_redis_the_pages_of_this_web_service_still_get_notices():
    async with web_service("unused", redis_url="redis://127.0.0.1:1/0") as (bus, page):
        bus.publish("ticket", {"id": 1, "change": "resolved"})
        assert page.get_nowait() == ("ticket", {"id": 1, "change": "resolved"})
        await asyncio.sleep(0.1)  # the relay fails to connect, retries, and raises nothing


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_agent_on_one_web_service_sees_live_what_another_agent_did_on_another(
    channel, sessions, database_url
):
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORDS["ann"], "admin")
        await create_agent(session, "bob", "Bob", PASSWORDS["bob"], "agent")
    ticket_id = await a_ticket(sessions)
    settings = Settings(
        database_url=database_url,
        rasa_port=1,
        rasa_api_token="unused",
        redis_url=REDIS_URL,
    )
    async with (
        TestClient(TestServer(create_app(settings))) as first,
        TestClient(TestServer(create_app(settings))) as second,
    ):
        for client in (first, second):
            await asyncio.wait_for(client.server.app[BUS_RELAY].subscribed.wait(), 10)
        await sign_in(second, "ann")
        events = await second.get("/console/events")
        await events.content.readuntil(b"\n\n")  # the retry line: the stream is open
        headers = {"X-CSRF-Token": await sign_in(first, "bob")}
        assert (await first.post(f"/api/tickets/{ticket_id}/claim", headers=headers)).ok
        message = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 5)
        assert (
            message == f'event: ticket\ndata: {{"id": {ticket_id}, "change": "claim"}}\n\n'.encode()
        )
        events.close()
