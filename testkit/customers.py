"""What tests and benchmarks use to play the customer and the agent's browser."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid

import socketio

from connectors.widget_session import widget_sender_id

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser test passphrase"  # the test agents' password


class Customer:
    """A customer on Rasa's socket.io channel, as the widget talks to it."""

    def __init__(self, rasa_url: str, session_id: str | None = None) -> None:
        self.url = rasa_url
        self.session_id = session_id or uuid.uuid4().hex  # the widget's secret, as asked for
        self.sender_id = widget_sender_id(self.session_id)  # the conversation's id
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue[dict] = asyncio.Queue()
        self.refusals: asyncio.Queue[dict] = asyncio.Queue()  # what the input gate refused
        self.client.on("bot_uttered", self.received.put)
        self.client.on("refused", self.refusals.put)

    async def __aenter__(self) -> Customer:
        confirmed = asyncio.Event()

        def confirm(session_id: str) -> None:  # the server's choice when it refused ours
            self.session_id, self.sender_id = session_id, widget_sender_id(session_id)
            confirmed.set()

        self.client.on("session_confirm", confirm)
        await self.client.connect(self.url, transports=["websocket"])
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed.wait(), 10)
        return self

    async def __aexit__(self, *_) -> None:
        await self.client.disconnect()

    async def say(self, text: str, metadata: dict | None = None) -> None:
        message = {"message": text, "session_id": self.session_id}
        if metadata is not None:
            message["metadata"] = metadata
        await self.client.emit("user_uttered", message)

    async def hear(self, starting: str, timeout: float = 30.0) -> dict:
        """The next bot message whose text starts with ``starting`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no message starting with {starting!r}"
            message = await asyncio.wait_for(self.received.get(), left)
            if (message.get("text") or "").startswith(starting):
                return message
