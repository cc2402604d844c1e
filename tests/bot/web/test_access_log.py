"""The web service's access log: what was asked and answered, never a query string."""

from __future__ import annotations

import logging
from unittest import mock

from aiohttp import ClientSession, web
from aiohttp.test_utils import make_mocked_request

from bot.web.access_log import PathOnlyAccessLogger

SECRET = "web-3f9a1c-conversation"


def test_a_line_has_method_path_status_size_and_time_but_no_query(caplog):
    logger = PathOnlyAccessLogger(logging.getLogger("test.access"), "%r %s")
    request = make_mocked_request("GET", f"/api/widget/history?session_id={SECRET}")
    response = mock.Mock(status=200, body_length=4)  # as sent
    with caplog.at_level(logging.INFO, logger="test.access"):
        logger.log(request, response, 0.0123)
    assert caplog.messages == ["GET /api/widget/history 200 4 0.012"]
    assert SECRET not in caplog.text


def test_the_path_stays_encoded_so_it_cannot_forge_lines(caplog):
    logger = PathOnlyAccessLogger(logging.getLogger("test.access"), "")
    request = make_mocked_request("GET", "/console/x%0A1.2.3.4%20GET%20/admin?a=1")
    with caplog.at_level(logging.INFO, logger="test.access"):
        logger.log(request, web.Response(status=404), 0.001)
    assert caplog.messages == ["GET /console/x%0A1.2.3.4%20GET%20/admin 404 0 0.001"]


def test_it_is_quiet_when_its_logger_is_off():
    quiet = logging.getLogger("test.access.quiet")
    quiet.setLevel(logging.WARNING)
    assert not PathOnlyAccessLogger(quiet, "").enabled


async def test_a_served_request_is_logged_without_its_query(caplog, unused_tcp_port):
    async def history(request: web.Request) -> web.Response:
        return web.json_response({"messages": []})

    app = web.Application()
    app.router.add_get("/api/widget/history", history)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
        url = f"http://127.0.0.1:{unused_tcp_port}/api/widget/history?session_id={SECRET}"
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with ClientSession() as client, client.get(url) as response:
                assert response.status == 200
                size = len(await response.read())
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1 and lines[0].startswith("GET /api/widget/history 200 ")
    assert int(lines[0].split()[3]) >= size  # headers and body
    assert SECRET not in caplog.text


def test_the_web_command_serves_with_it(monkeypatch):
    from bot.__main__ import main

    run_app = mock.Mock()
    monkeypatch.setattr(web, "run_app", run_app)
    assert main(["web"]) == 0
    assert run_app.call_args.kwargs["access_log_class"] is PathOnlyAccessLogger
