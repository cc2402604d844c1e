"""A widget customer connected through nginx: the bot answers, and an agent's reply reaches
the socket whichever Rasa server delivers it (python-socketio's Redis client manager)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from testkit.customers import Customer
from tests.support.cluster import ClusterRun, wait_until_serving

pytestmark = pytest.mark.integration

# What each Rasa server utters into the conversation, through its own HTTP API.
UTTERED_BY = {
    "rasa-1": ("utter_goodbye", "Goodbye, and happy shopping!"),
    "rasa-2": ("utter_you_are_welcome", "You're welcome!"),
}


def execute_on(cluster: ClusterRun, replica: str, sender: str, action: str) -> int:
    """What the outbox delivery does (bot/workers/delivery.py), to one Rasa server directly;
    a conversation whose first turn is still being saved (its first answer goes out before)
    is tried again for a few seconds."""
    token = cluster.secrets["RASA_API_TOKEN"]
    url = (
        f"{cluster.replica_url(replica)}/conversations/{quote(sender, safe='')}/execute"
        f"?output_channel=socketio&token={token}"
    )
    request = urllib.request.Request(
        url,
        data=json.dumps({"name": action}).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.3)


async def test_a_reply_from_either_rasa_server_reaches_the_socket_behind_nginx(cluster):
    for replica in UTTERED_BY:  # another test may have killed one
        await asyncio.to_thread(wait_until_serving, cluster, replica)
    async with Customer(cluster.rasa_url) as customer:  # nginx's Rasa port
        await customer.say("How do I reset my password?")
        answer = await customer.hear("", timeout=60)
        assert answer["text"]
        for replica, (action, text) in UTTERED_BY.items():
            status = await asyncio.to_thread(
                execute_on, cluster, replica, customer.sender_id, action
            )
            assert status == 200
            heard = await customer.hear(text, timeout=15)
            assert heard["text"].startswith(text), replica
    # nginx logs a WebSocket when it closes: which Rasa server held this one.
    held = [e["up"] for e in cluster.access_log() if e["uri"].startswith("/socket.io/")]
    assert held, cluster.access_log()
    holder = cluster.replica_at(held[-1])
    assert holder in UTTERED_BY  # so the other server's reply crossed over, through Redis
