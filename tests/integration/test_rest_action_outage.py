"""The channels while the action server is down. REST: 503 with Retry-After instead of 200 with
nothing, and a message sent again is handled once. The widget (socket.io): the message is held,
the customer told to wait a moment, and answered once the action server is back.

A real Rasa server, first with no action server at all (down before the message), then with
one that dies while Rasa calls it (down during the message), then with the real action server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime.processes import (
    ManagedProcess,
    action_server,
    credentials_for,
    endpoints_for,
    rasa_server,
)
from bot.settings import Settings
from bot.store.migrate import upgrade
from connectors.action_outage import HOLD_SECONDS
from testkit.customers import Customer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PORTS = (18405, 18455, 18480)  # Rasa, action server, web service (not started)
QUESTION = "How do I reset my password?"
PROBE_TTL = 1.0  # more than connectors.action_outage.PROBE_TTL


class Outage:
    """Rasa on its own; the action server is started only when a test asks for it."""

    def __init__(self, work: Path, model: Path) -> None:
        built = Path(os.environ.get("TEST_FAQ_INDEX_DIR", REPO / "var" / "faq_index"))
        if not (built / "CURRENT").is_file():
            pytest.fail(f"no FAQ index in {built}: run `make index` (make test does)")
        self.index_dir = work / "faq_index"
        shutil.copytree(built, self.index_dir, symlinks=True)
        rasa_port, action_port, web_port = PORTS
        self.settings = Settings(
            rasa_port=rasa_port,
            action_port=action_port,
            web_port=web_port,
            rasa_api_token=uuid.uuid4().hex,
            rest_channel_token=uuid.uuid4().hex,
            run_dir=work / "run",
            credentials_file=REPO / "credentials.yml",
            endpoints_file=REPO / "endpoints.yml",
            database_url=f"sqlite:///{work / 'app.db'}",
        )
        asyncio.run(upgrade(self.settings.database.database_url))
        endpoints = endpoints_for(self.settings, work / "endpoints.yml")
        credentials = credentials_for(self.settings, work / "credentials.yml")
        self.rasa = ManagedProcess(rasa_server(self.settings, model, endpoints, credentials))
        spec = action_server(self.settings)
        spec.env["FAQ_INDEX_DIR"] = str(self.index_dir)
        self.actions = ManagedProcess(spec)

    def send(self, sender: str, message: str = QUESTION) -> tuple[int, dict[str, str], object]:
        """(status, headers, JSON body) of one REST message."""
        request = urllib.request.Request(
            f"{self.settings.servers.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.settings.rasa.rest_channel_token.get_secret_value()}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, dict(answer.headers), json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    def events(self, sender: str) -> list[dict]:
        token = self.settings.rasa.rasa_api_token.get_secret_value()
        url = f"{self.settings.servers.rasa_url}/conversations/{sender}/tracker?token={token}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())["events"]


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def counted_user_texts(events: list[dict]) -> list[str]:
    """The messages Rasa's dialogue state counts: a ``rewind`` undoes the latest message."""
    counted: list[str] = []
    for event in events:
        if event["event"] == "user":
            counted.append(event["text"])
        elif event["event"] == "rewind" and counted:
            counted.pop()
    return counted


class DyingActionServer:
    """Answers ``/health``, then dies at the first action call: the port closes and the call's
    connection is dropped unanswered, as when the action server crashes running an action."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.calls = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.listener:
            while True:
                connection, _ = self.listener.accept()
                with connection:
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        head += chunk
                    if head.startswith(b"GET /health"):
                        connection.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                        )
                        continue
                    self.calls += 1
                    self.listener.close()  # the port closes first: later calls are refused
                    return

    def join(self) -> None:
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def outage(tmp_path_factory, rasa_model: Path) -> Iterator[Outage]:
    stack = Outage(tmp_path_factory.mktemp("rest-outage"), rasa_model)
    stack.rasa.start()
    try:
        stack.rasa.wait_ready(stack.settings.supervision.startup_timeout)
        yield stack
    finally:
        stack.rasa.stop()
        stack.actions.stop()


SENDERS = {"before": f"outage-before-{uuid.uuid4().hex[:8]}"}
SENDERS["during"] = f"outage-during-{uuid.uuid4().hex[:8]}"


def assert_retry_later(status: int, headers: dict[str, str], body: object) -> None:
    assert status == 503, body
    assert isinstance(body, dict) and body["error"] == "unavailable"
    assert int(headers["Retry-After"]) == body["retry_after"] > 0
    assert "again" in body["detail"]


def test_with_the_action_server_down_the_message_gets_503_and_is_not_stored(outage):
    assert_retry_later(*outage.send(SENDERS["before"]))
    assert user_texts(outage.events(SENDERS["before"])) == []


def test_when_the_action_server_dies_during_the_message_its_turn_is_undone(outage):
    dying = DyingActionServer(outage.settings.servers.action_port)
    time.sleep(PROBE_TTL)  # the channel believes its last look at the action server this long
    try:
        assert_retry_later(*outage.send(SENDERS["during"]))
    finally:
        dying.join()
    assert dying.calls == 1
    events = outage.events(SENDERS["during"])
    assert user_texts(events) == [QUESTION]  # stored: Rasa handled it
    assert counted_user_texts(events) == []  # but undone: the dialogue does not count it
    assert events[-1]["event"] == "rewind"
    undone = events[-1]["metadata"]  # so that the profile keeps only the copy sent again
    asked = next(e for e in events if e["event"] == "user")
    # (Rasa adds the model's and assistant's ids to what a tracker it is running records.)
    assert {key: undone.get(key) for key in ("undone_message_id", "undone_at")} == {
        "undone_message_id": asked["message_id"],
        "undone_at": asked["timestamp"],
    }


async def test_a_widget_message_is_held_until_the_action_server_is_back(outage):
    async with Customer(outage.settings.servers.rasa_url) as customer:
        await customer.say(QUESTION)
        await customer.hear("One moment please")
        outage.actions.start(die_with_starter=False)
        answer = await customer.hear("", timeout=HOLD_SECONDS)
    assert "password" in answer["text"].lower()
    assert counted_user_texts(outage.events(customer.sender_id)) == [QUESTION]


def test_sent_again_once_the_action_server_is_back_each_message_is_answered_once(outage):
    if not outage.actions.running():
        outage.actions.start(die_with_starter=False)
    outage.actions.wait_ready(outage.settings.supervision.startup_timeout)
    for sender in SENDERS.values():
        status, _, replies = outage.send(sender)
        assert status == 200, replies
        assert isinstance(replies, list) and "password" in replies[0]["text"].lower()
        assert counted_user_texts(outage.events(sender)) == [QUESTION]
    assert user_texts(outage.events(SENDERS["before"])) == [QUESTION]
