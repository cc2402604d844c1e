"""The action server the supervisor starts answers only callers with ``ACTION_SERVER_TOKEN``."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime.processes import ManagedProcess, action_server
from bot.settings import Settings

PORT = 17905
TOKEN = "the-action-servers-token"

# What Rasa posts to run an action, trimmed to what action_begin_turn reads.
CALL = {
    "next_action": "action_begin_turn",
    "sender_id": "crafted",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "crafted",
        "slots": {"language": "en"},
        "latest_message": {"text": "hello there", "intent": {}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
}


def action_server_in(work: Path, port: int) -> tuple[Settings, ManagedProcess]:
    """The action server as the supervisor starts it, on ``port``, its files in ``work``."""
    settings = Settings(
        action_port=port,
        action_server_token=TOKEN,
        run_dir=work,
        database_url=f"sqlite:///{work / 'app.db'}",
    )
    return settings, ManagedProcess(action_server(settings))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Settings]:
    settings, process = action_server_in(tmp_path_factory.mktemp("action-server"), PORT)
    process.start()
    try:
        process.wait_ready(120)
        yield settings
    finally:
        process.stop()


def post(settings: Settings, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{settings.servers.action_url}{path}",
        data=json.dumps(CALL).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
    ids=["none", "wrong", "no-scheme", "basic", "longer"],
)
def test_a_call_without_the_token_is_refused(server, headers):
    status, body = post(server, "/webhook", headers)
    assert status == 401
    assert "events" not in body and "responses" not in body


def test_a_call_with_the_token_runs_the_action(server):
    status, body = post(server, "/webhook", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert "events" in body


def test_health_stays_open_for_the_supervisors_probes(server):
    with urllib.request.urlopen(f"{server.servers.action_url}/health", timeout=10) as response:
        assert response.status == 200


def test_the_list_of_actions_is_not_open_either(server):
    request = urllib.request.Request(f"{server.servers.action_url}/actions")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_the_port_opens_only_once_the_server_answers(tmp_path):
    """A connection the port accepts is answered at once, from the first one: a load balancer
    that reaches a restarting server is refused at connect (and tries another), never left
    waiting on a call the server takes only after loading its FAQ model."""
    _settings, process = action_server_in(tmp_path, PORT + 1)
    process.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.running(), process.log_tail()
            try:
                connection = socket.create_connection(("127.0.0.1", PORT + 1), timeout=1)
            except OSError:
                time.sleep(0.05)
                continue
            with connection:
                connection.settimeout(2)
                connection.sendall(b"GET /health HTTP/1.1\r\nHost: actions\r\n\r\n")
                try:
                    first = connection.recv(64)
                except TimeoutError:
                    first = b""
            assert first.startswith(b"HTTP/1.1 200"), (
                f"the first connection accepted got {first!r} within 2 s"
            )
            break
        else:
            pytest.fail(f"never opened its port:\n{process.log_tail()}")
        assert "warm-up actions.faq:faq_searcher done" in process.log_tail(200)
    finally:
        process.stop()
