"""Several Rasa servers, one widget audience: what one server emits into a conversation's room
reaches the socket connected to another, when the channel has a ``redis_url``.

The widget channel runs inside Rasa (Python 3.10, python-socketio 5.8), which the test venv does
not have. So the scenario below runs under Rasa's python (``.venv-rasa/bin/python
tests/connectors/test_socketio_servers.py REDIS_URL ROOM``): two channels as two Rasa servers would
build them from ``credentials.yml``, a socket registered in the room of server A, and an agent's
reply sent through server B's output channel (what Rasa's HTTP API does with
``output_channel=socketio``). It prints, as JSON, what the socket on A received.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import uuid
from typing import Any

from tests.support.rasa_python import run_under_rasa, skip_without_rasa

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# --- the scenario (Rasa's python) ---------------------------------------------------------------


async def _agent_reply_across_servers(redis_url: str, room: str) -> list[Any]:
    from connectors.socketio import AgentAwareSocketIOOutput, WidgetSocketIOInput

    async def on_new_message(_message: Any) -> None:
        return None

    servers = []
    for _ in range(2):
        channel = WidgetSocketIOInput.from_credentials({"redis_url": redis_url})
        channel.blueprint(on_new_message)
        servers.append(channel.sio)
    server_a, server_b = servers
    received: list[Any] = []

    async def capture(eio_sid: str, packet: Any) -> None:  # instead of the wire
        received.append([eio_sid, packet.data])

    server_a._send_packet = capture
    server_a.manager.initialize()  # done at the first connection by python-socketio
    sid = server_a.manager.connect("eio-1", "/")
    server_a.enter_room(sid, room)  # as session_request does
    await asyncio.sleep(0.5)  # server A subscribes to the Redis channel
    output = AgentAwareSocketIOOutput(server_b, "bot_uttered")
    await output.send_text_message(room, "Your parcel left today.", agent_name="Nina")
    for _ in range(30):
        if received:
            break
        await asyncio.sleep(0.1)
    return received


def main(redis_url: str, room: str) -> None:
    """What the socket received with the shared manager, and with none."""
    outcome = {
        "shared": asyncio.run(_agent_reply_across_servers(redis_url, room)),
        "alone": asyncio.run(_agent_reply_across_servers("", room)),
    }
    print(json.dumps(outcome), flush=True)


# --- the tests (the test venv) ------------------------------------------------------------------


@functools.cache
def _received() -> dict[str, list[Any]]:
    """What the socket on server A received: with the shared manager, and without."""
    import pytest
    import redis

    skip_without_rasa()
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set TEST_REDIS_URL")
    return run_under_rasa(__file__, REDIS_URL, f"conversation-{uuid.uuid4().hex}")


def test_an_agents_reply_sent_by_another_server_reaches_the_socket():
    assert _received()["shared"] == [
        [
            "eio-1",
            [
                "bot_uttered",
                {"text": "Your parcel left today.", "metadata": {"agent_name": "Nina"}},
            ],
        ]
    ]


def test_without_redis_the_other_servers_reply_never_arrives():
    # Why the channel needs the shared manager: each server knows only its own sockets.
    assert _received()["alone"] == []


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    sys.exit(0)
