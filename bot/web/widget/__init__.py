"""The website chat widget: its script and style, the socket.io client it loads, a demo shop
page (here), the conversation history it restores after a reload (:mod:`.history`), the
options the shop set for it (:mod:`.options`), its pre-chat form (:mod:`.contact`) and the
signal that the customer saw the agents' replies (:mod:`.seen`)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web.keys import SETTINGS
from bot.web.widget import contact, history, options, seen
from vocabulary import locale_from_tag

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SOCKET_IO_CLIENT = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def _file(path: Path, content_type: str) -> web.FileResponse:
    response = web.FileResponse(path, headers={"Content-Type": content_type})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def widget_js(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.js", "application/javascript; charset=utf-8")


async def widget_css(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.css", "text/css; charset=utf-8")


async def demo_css(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "demo.css", "text/css; charset=utf-8")


async def socket_io_client(request: web.Request) -> web.StreamResponse:
    if not SOCKET_IO_CLIENT.is_file():
        raise web.HTTPServiceUnavailable(text="the socket.io client is not installed: make setup")
    return _file(SOCKET_IO_CLIENT, "application/javascript; charset=utf-8")


async def demo(request: web.Request) -> web.Response:
    """A demo shop page with the widget's tag, as a shop's developer would add it;
    ``?lang=`` zh, zh-TW, zh-HK (or any tag of those) or en."""
    settings = request.app[SETTINGS]
    lang = locale_from_tag(request.query.get("lang")) or "en"  # en, zh, zh-TW or zh-HK
    bot_host = settings.servers.public_rasa_url or settings.servers.rasa_url
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    page = page.replace("{{lang}}", lang).replace("{{bot_host}}", bot_host)
    response = web.Response(text=page, content_type="text/html")
    origin = f"{bot_host} {bot_host.replace('http', 'ws', 1)}"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    )
    return response  # the other security headers: bot.web.headers, on every answer


def add_routes(app: web.Application) -> None:
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget.css", widget_css)
    app.router.add_get("/widget/socket.io.min.js", socket_io_client)
    history.add_routes(app)
    options.add_routes(app)
    contact.add_routes(app)
    seen.add_routes(app)
    app.router.add_get("/demo", demo)
    app.router.add_get("/widget/demo.css", demo_css)
