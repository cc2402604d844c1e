"""The client's address behind reverse proxies: X-Forwarded-For believed only from a trusted
proxy, read from the right, and never enough for a client to choose its own address."""

from __future__ import annotations

import ipaddress
import os
import subprocess
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from pydantic import ValidationError

import bot.domain.auth
from bot.domain.auth import MAX_ATTEMPTS_PER_ADDRESS, create_agent
from bot.runtime.processes import rasa_server, web_server
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.client_address import client_address, forwarded_middleware, trusted_networks

REPO = Path(__file__).resolve().parents[3]
LOOPBACK = trusted_networks(["127.0.0.1"])  # the test client's address: our "proxy"
PROXIES = trusted_networks(["127.0.0.0/8", "10.0.0.0/8", "fd00::/8"])


# --- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("10.0.0.2", ["203.0.113.7"], "203.0.113.7"),
        # Rightmost untrusted: what the client wrote left of it does not count.
        ("10.0.0.2", ["198.51.100.9, 203.0.113.7"], "203.0.113.7"),
        ("10.0.0.2", ["198.51.100.9, 203.0.113.7, 10.0.0.1"], "203.0.113.7"),
        ("10.0.0.2", ["198.51.100.9", "203.0.113.7,10.0.0.1"], "203.0.113.7"),  # two headers
        ("10.0.0.2", ["10.9.9.9, 10.0.0.1"], "10.9.9.9"),  # every hop is ours: the first
        ("10.0.0.2", ["garbage, 203.0.113.7"], "203.0.113.7"),  # left of the client: unread
        ("10.0.0.2", ["2001:db8::1"], "2001:db8::1"),
        ("10.0.0.2", ["[2001:DB8::1]"], "2001:db8::1"),
        ("fd00::2", ["203.0.113.7"], "203.0.113.7"),
        ("::ffff:10.0.0.2", ["203.0.113.7"], "203.0.113.7"),  # a dual-stack socket's peer
        ("10.0.0.2", [" 203.0.113.7 "], "203.0.113.7"),
    ],
)
def test_a_trusted_proxys_header_names_the_client(peer, headers, expected):
    assert client_address(peer, headers, PROXIES) == expected


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [""],
        [" , "],
        ["unknown"],
        ["203.0.113.7:4711"],
        ["203.0.113.7, not-an-address"],
        ["203.0.113.7, 10.0.0.1, _hidden"],
        ["203.0.113.7\udc80"],
        ["2001:db8::1%eth0x, 203.0.113.7, 999.1.1.1"],
        ["203.0.113.7/32"],
    ],
)
def test_a_missing_or_malformed_header_leaves_the_peer(headers):
    assert client_address("10.0.0.2", headers, PROXIES) == "10.0.0.2"


@pytest.mark.parametrize("peer", ["192.0.2.1", "2001:db8::5", "", None, "/run/nginx.sock"])
def test_the_header_of_a_peer_that_is_no_trusted_proxy_is_ignored(peer):
    assert client_address(peer, ["203.0.113.7"], PROXIES) == peer


def test_without_trusted_proxies_every_header_is_ignored():
    assert client_address("127.0.0.1", ["203.0.113.7"], ()) == "127.0.0.1"


def test_a_long_header_is_read_from_the_right_only():
    headers = [", ".join(["10.0.0.1"] * 10_000 + ["203.0.113.7", "10.0.0.3"])]
    assert client_address("10.0.0.2", headers, PROXIES) == "203.0.113.7"


# --- the setting --------------------------------------------------------------------------------


def test_trusted_proxies_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 fd00::/8")
    assert Settings().web.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    monkeypatch.setenv("TRUSTED_PROXIES", "")
    assert Settings().web.trusted_proxies == ()


@pytest.mark.parametrize("value", ["nginx", "10.0.0.0/33", "10.0.0.1/8", "*"])
def test_a_bad_trusted_proxy_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings()


def test_the_web_service_started_by_the_supervisor_gets_the_same_proxies(tmp_path, monkeypatch):
    chosen = Settings(run_dir=tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("TRUSTED_PROXIES", web_server(chosen).env["TRUSTED_PROXIES"])
    assert Settings().web.trusted_proxies == chosen.web.trusted_proxies
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert web_server(Settings(run_dir=tmp_path)).env["TRUSTED_PROXIES"] == ""


# --- the middleware -----------------------------------------------------------------------------


async def _remote(request: web.Request) -> web.Response:
    return web.Response(text=request.remote or "")


@pytest.fixture()
async def echo():
    """A client for an app that echoes ``request.remote``, with or without trusted proxies."""
    clients: list[TestClient] = []

    async def make(trusted) -> TestClient:
        app = web.Application(middlewares=[forwarded_middleware(trusted)])
        app.router.add_get("/", _remote)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def remote(client: TestClient, *forwarded: str) -> str:
    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    response = await client.get("/", headers=headers)
    assert response.status == 200
    return await response.text()


async def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(echo):
    for trusted in ((), trusted_networks(["10.0.0.0/8"])):
        client = await echo(trusted)
        assert await remote(client, "203.0.113.7") == "127.0.0.1"
        assert await remote(client) == "127.0.0.1"


async def test_from_a_trusted_peer_the_rightmost_untrusted_address_is_used(echo):
    client = await echo(trusted_networks(["127.0.0.1", "10.0.0.0/8"]))
    assert await remote(client, "203.0.113.7") == "203.0.113.7"
    assert await remote(client, "198.51.100.9, 203.0.113.7, 10.0.0.1") == "203.0.113.7"
    assert await remote(client, "198.51.100.9", "203.0.113.7") == "203.0.113.7"
    assert await remote(client) == "127.0.0.1"


async def test_a_malformed_header_from_a_trusted_peer_falls_back_to_the_peer(echo):
    client = await echo(LOOPBACK)
    for header in ("", "unknown", "203.0.113.7:80", "203.0.113.7, <script>", "1.2.3"):
        assert await remote(client, header) == "127.0.0.1", header


# --- the web service ----------------------------------------------------------------------------


@pytest.fixture()
async def web_service(sessions, database_url, monkeypatch):
    """A client of the whole web service, with or without the test client as trusted proxy."""
    monkeypatch.setattr(bot.domain.auth, "_pause", _no_pause)  # no per-name delays: distinct names
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", "ann's long passphrase", "agent")
    clients: list[TestClient] = []

    async def make(trusted_proxies: str) -> TestClient:
        settings = Settings(
            database_url=database_url,
            rasa_port=1,
            rasa_api_token="unused",
            trusted_proxies=trusted_proxies,
        )
        client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def _no_pause(seconds: float) -> None:
    return None


async def sign_in_from(client: TestClient, address: str, username: str, password: str) -> int:
    headers = {"X-Forwarded-For": address}
    token = (await (await client.get("/api/login", headers=headers)).json())["csrf_token"]
    response = await client.post(
        "/api/login",
        json={"username": username, "password": password},
        headers={**headers, "X-CSRF-Token": token},
    )
    return response.status


async def fail_until_refused(client: TestClient, address: str) -> None:
    for n in range(MAX_ATTEMPTS_PER_ADDRESS):
        assert await sign_in_from(client, address, f"guess{n}", "a wrong password") == 401
    assert await sign_in_from(client, address, "guess", "a wrong password") == 429


async def test_one_clients_failures_behind_the_proxy_do_not_lock_out_the_others(web_service):
    client = await web_service("127.0.0.1")
    await fail_until_refused(client, "198.51.100.66")
    assert await sign_in_from(client, "203.0.113.7", "ann", "ann's long passphrase") == 200
    assert await sign_in_from(client, "198.51.100.66", "ann", "ann's long passphrase") == 429


async def test_without_trusted_proxies_a_client_cannot_change_its_address(web_service):
    client = await web_service("")
    await fail_until_refused(client, "198.51.100.66")
    assert await sign_in_from(client, "203.0.113.7", "ann", "ann's long passphrase") == 429


# --- Rasa (Sanic) -------------------------------------------------------------------------------


def test_rasa_gets_its_proxies_count_only_when_set(tmp_path):
    def rasa_env(**chosen) -> dict[str, str]:
        settings = Settings(run_dir=tmp_path, **chosen)
        return rasa_server(settings, tmp_path / "m.tar.gz", tmp_path / "e", tmp_path / "c").env

    assert rasa_env(rasa_proxies_count=1)["SANIC_PROXIES_COUNT"] == "1"
    assert "SANIC_PROXIES_COUNT" not in rasa_env()
    with pytest.raises(ValidationError):
        Settings(rasa_proxies_count=-1)


RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
SANIC_PROBE = """
from sanic import Sanic
from sanic.headers import parse_xforwarded
from sanic.compat import Header
app = Sanic("probe")
headers = Header([("X-Forwarded-For", "198.51.100.9, 203.0.113.7")])
print(app.config.PROXIES_COUNT, (parse_xforwarded(headers, app.config) or {}).get("for"))
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="no Rasa venv (.venv-rasa): run make setup")
def test_rasas_sanic_reads_the_client_from_x_forwarded_for_with_the_count(tmp_path):
    def probe(**env: str) -> str:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SANIC_")}
        done = subprocess.run(
            [str(RASA_PYTHON), "-c", SANIC_PROBE],
            env={**clean, **env},
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    env = rasa_server(Settings(rasa_proxies_count=1), tmp_path, tmp_path, tmp_path).env
    assert probe(SANIC_PROXIES_COUNT=env["SANIC_PROXIES_COUNT"]) == "1 203.0.113.7"
    assert probe() == "None None"
