"""deploy/nginx/shop-assistant.conf, run by the nginx of this machine: ``nginx -t`` with a
throwaway self-signed certificate, then a real nginx in front of stand-in servers (one per
replica, each telling who it is) on loopback, ports 18200-18299: HTTPS only, the routes, the
forwarded headers, socket.io's WebSocket upgrade and stickiness, body limits, and a customer's
message never passed to a second server once one had it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import ssl
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "shop-assistant.conf"

# nginx's listeners, production port -> this test's.
LISTENERS = {"80": 18280, "443": 18243, "5055": 18255, "5005": 18205, "8080": 18281}
# The upstream servers as the configuration names them -> a stand-in's port. actions-2 is
# left down: a replica that is down.
UPSTREAMS = {
    "rasa-1:5005": 18211,
    "rasa-2:5005": 18212,
    "actions-1:5055": 18221,
    "actions-2:5055": 18222,
    "127.0.0.1:8001": 18231,
    "127.0.0.1:8002": 18232,
}
DOWN = {"actions-2:5055"}
HTTPS = f"https://127.0.0.1:{LISTENERS['443']}"
NAME = web.AppKey("name", str)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (needed for a throwaway certificate)")
    return found


def rendered(tmp: Path) -> Path:
    """The production configuration under ``tmp``: a throwaway certificate, the upstreams and
    listeners moved to this test's ports, its own logs; the path of an nginx.conf including it."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(tmp / "privkey.pem"),
         "-out", str(tmp / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    conf = NGINX_CONF.read_text(encoding="utf-8").replace("/etc/nginx/certs/", f"{tmp}/")
    conf = conf.replace("/var/www/acme", str(tmp))
    for address, port in UPSTREAMS.items():
        conf, count = re.subn(rf"server {re.escape(address)} ", f"server 127.0.0.1:{port} ", conf)
        assert count, address
    for default, port in LISTENERS.items():
        conf, count = re.subn(
            rf"listen (127\.0\.0\.1:|\[::\]:)?{default}\b", rf"listen \g<1>{port}", conf
        )
        assert count, default
    conf = conf.replace("listen [::]:", "# listen [::]:")  # IPv6 need not exist here
    (tmp / "site.conf").write_text(conf, encoding="utf-8")
    main = tmp / "nginx.conf"
    main.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        f"events {{}}\nhttp {{\n  access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  include {tmp}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    tmp.chmod(0o755)  # nginx's worker (nobody, when started as root) reads and writes here
    return main


def nginx_command(conf: Path) -> list[str]:
    prefix = str(conf.parent)
    return [nginx_binary(), "-p", prefix, "-e", f"{prefix}/error.log", "-c", str(conf)]


def test_nginx_accepts_the_production_configuration(tmp_path):
    conf = rendered(tmp_path)
    result = subprocess.run(
        [*nginx_command(conf), "-t"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


class StandIns:
    """One small server per upstream replica; each request is recorded with the headers it
    came with. A path with ``/drop`` is read and then the connection closed with no answer:
    a server that died with the message in hand."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        for address, port in UPSTREAMS.items():
            if address in DOWN:
                continue
            app = web.Application(client_max_size=4 * 1024 * 1024)
            app[NAME] = address
            app.router.add_route("*", "/{tail:.*}", self._answer)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            self._runners.append(runner)

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        name = request.app[NAME]
        self.seen.append({"server": name, "method": request.method, "path": request.path,
                          "headers": dict(request.headers)})  # fmt: skip
        if "/drop" in request.path:
            assert request.transport is not None
            request.transport.abort()
            await asyncio.sleep(0.1)
        return web.json_response({"server": name})

    def servers(self, path: str) -> Counter[str]:
        return Counter(s["server"] for s in self.seen if s["path"] == path)


@pytest.fixture(scope="module")
def nginx_conf(tmp_path_factory) -> Path:
    return rendered(tmp_path_factory.mktemp("nginx"))


@pytest.fixture()
async def balancer(nginx_conf):
    stand_ins = StandIns()
    await stand_ins.start()
    process = await asyncio.create_subprocess_exec(
        *nginx_command(nginx_conf), stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with client.get(f"http://127.0.0.1:{LISTENERS['8080']}/healthz") as r:
                        if r.status == 200:
                            break
                if process.returncode is not None:
                    pytest.fail(f"nginx exited: {(nginx_conf.parent / 'error.log').read_text()}")
                await asyncio.sleep(0.05)
        yield stand_ins
    finally:
        process.terminate()
        await process.wait()
        await stand_ins.stop()


def client_session() -> aiohttp.ClientSession:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throwaway certificate
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_plain_http_is_redirected_and_https_is_strict(balancer):
    async with client_session() as client:
        async with client.get(
            f"http://127.0.0.1:{LISTENERS['80']}/console?x=1", allow_redirects=False
        ) as response:
            assert response.status == 301
            assert response.headers["Location"] == "https://127.0.0.1/console?x=1"
        async with client.get(f"{HTTPS}/console") as response:
            assert response.status == 200
            assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert balancer.servers("/console") and not balancer.servers("/console")["rasa-1:5005"]


async def test_each_path_reaches_its_servers_and_rasas_api_is_not_public(balancer):
    routes = {
        "/socket.io/": {"rasa-1:5005", "rasa-2:5005"},
        "/webhooks/wechat/webhook": {"rasa-1:5005", "rasa-2:5005"},
        "/health": {"127.0.0.1:8001", "127.0.0.1:8002"},
        "/widget/widget.js": {"127.0.0.1:8001", "127.0.0.1:8002"},
        "/api/tickets": {"127.0.0.1:8001", "127.0.0.1:8002"},
        # Rasa's HTTP API paths land on the web service, which knows nothing of them.
        "/conversations/abc/messages": {"127.0.0.1:8001", "127.0.0.1:8002"},
        "/model/parse": {"127.0.0.1:8001", "127.0.0.1:8002"},
    }
    async with client_session() as client:
        for path, servers in routes.items():
            async with client.get(f"{HTTPS}{path}") as response:
                assert response.status == 200, path
                assert (await response.json())["server"] in servers, path
        # Internal listeners: Rasa's API for the web services, the action servers for Rasa.
        async with client.get(f"http://127.0.0.1:{LISTENERS['5005']}/status") as response:
            assert (await response.json())["server"] in routes["/socket.io/"]
        async with client.post(f"http://127.0.0.1:{LISTENERS['5055']}/webhook") as response:
            assert (await response.json())["server"] == "actions-1:5055"


async def test_the_apps_see_the_client_and_the_scheme(balancer):
    async with client_session() as client:
        for path in ("/socket.io/?EIO=4&transport=polling", "/webhooks/rest/webhook", "/health"):
            async with client.get(f"{HTTPS}{path}", headers={"X-Forwarded-For": "6.6.6.6"}):
                pass
    for seen in balancer.seen:
        headers = seen["headers"]
        # The rightmost entry is the address nginx saw (RASA_PROXIES_COUNT=1, TRUSTED_PROXIES).
        assert headers["X-Forwarded-For"].split(",")[-1].strip() == "127.0.0.1", seen["path"]
        assert headers["X-Forwarded-Proto"] == "https", seen["path"]
        assert headers["Host"] == "127.0.0.1", seen["path"]  # the host the client asked for


async def test_socket_io_upgrades_to_websocket_and_sticks_to_one_server(balancer):
    async with client_session() as client:
        for _ in range(6):
            async with client.get(
                f"{HTTPS}/socket.io/", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
            ):
                pass  # fmt: skip
    upgraded = [s for s in balancer.seen if s["path"] == "/socket.io/"]
    assert all(s["headers"].get("Upgrade") == "websocket" for s in upgraded)
    assert all(s["headers"].get("Connection", "").lower() == "upgrade" for s in upgraded)
    assert len(balancer.servers("/socket.io/")) == 1  # one client address, one server


async def test_a_message_a_server_had_is_never_sent_to_another(balancer):
    async with client_session() as client:
        async with client.post(f"{HTTPS}/webhooks/wechat/webhook/drop", data=b"<xml/>") as r:
            assert r.status == 502  # the customer's channel sees an error and may send again
        async with client.post(f"http://127.0.0.1:{LISTENERS['5055']}/webhook/drop") as r:
            assert r.status == 502
    assert sum(balancer.servers("/webhooks/wechat/webhook/drop").values()) == 1
    assert sum(balancer.servers("/webhook/drop").values()) == 1


async def test_a_server_that_is_down_is_passed_over(balancer):
    async with client_session() as client:
        for _ in range(4):  # least_conn tries actions-2 (down), then actions-1
            async with client.post(f"http://127.0.0.1:{LISTENERS['5055']}/webhook") as r:
                assert r.status == 200
    assert balancer.servers("/webhook") == Counter({"actions-1:5055": 4})


async def test_bodies_past_the_servers_limit_are_refused_at_the_door(balancer):
    async with client_session() as client:
        async with client.post(
            f"{HTTPS}/webhooks/rest/webhook", data=b"x" * (1024 * 1024 + 1)
        ) as r:
            assert r.status == 413
        async with client.post(f"{HTTPS}/webhooks/rest/webhook", data=b"x" * 1000) as r:
            assert r.status == 200
    assert sum(balancer.servers("/webhooks/rest/webhook").values()) == 1
