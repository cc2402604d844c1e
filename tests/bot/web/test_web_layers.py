"""The web service's layers: the console's two sub-applications guard every route of theirs (the
routes are read from their routers, so a new one cannot slip through unguarded), only the sign-in
routes are open, the widget's history keeps its URL beside the agent API, and every answer of the
service carries the security headers."""

from __future__ import annotations

import re

import pytest
from aiohttp import web

from bot.web.console import create_agent_api
from bot.web.console.security import PUBLIC, allow_anonymous
from bot.web.headers import CSP
from bot.web.keys import AGENT_API, CONSOLE_APP
from tests.bot.conftest import sign_in

SUB_APPS = [CONSOLE_APP, AGENT_API]


def _url(route: web.AbstractRoute) -> str:
    """A URL of ``route``'s resource, each variable part ``1``."""
    assert route.resource is not None
    return re.sub(r"\{[^}]+\}", "1", route.resource.canonical) or "/"


def _guarded_routes(app: web.Application) -> list[web.AbstractRoute]:
    return [
        route
        for resource in app.router.resources()
        if resource not in app[PUBLIC]
        for route in resource
    ]


def _public(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method, resource.canonical) for resource in app[PUBLIC] for route in resource}


async def _assert_refused(client, key: web.AppKey, method: str, url: str) -> None:
    response = await client.request(method, url, allow_redirects=False)
    if key is CONSOLE_APP:
        assert (response.status, response.headers.get("Location")) == (303, "/console/login"), url
    else:
        assert response.status == 401, f"{method} {url}"
        if method != "HEAD":
            assert await response.json() == {"error": "sign in first"}


@pytest.mark.parametrize("key", SUB_APPS, ids=["console", "agent-api"])
async def test_every_route_of_the_sub_apps_needs_a_signed_in_agent(client, key):
    app = client.server.app[key]
    routes = _guarded_routes(app)
    assert len(routes) > 10  # the routers were read, not an empty list
    for route in routes:
        await _assert_refused(client, key, route.method, _url(route))
    prefix = "/console" if key is CONSOLE_APP else "/api"
    for method in ("GET", "POST"):  # paths the sub-application does not know: the same answer
        await _assert_refused(client, key, method, f"{prefix}/no-such-thing")


async def test_the_root_app_serves_no_console_or_agent_api_route_of_its_own(client):
    """A route added to the root app under /console or /api would bypass the sub-apps' guard."""
    root = client.server.app
    own = {
        resource.canonical
        for resource in root.router.resources()
        if resource.canonical.startswith(("/console", "/api"))
        and not isinstance(resource, web.PrefixedSubAppResource)
    }
    assert own == {"/api/widget/history"}
    mounted = {
        resource.canonical
        for resource in root.router.resources()
        if isinstance(resource, web.PrefixedSubAppResource)
    }
    assert mounted == {"/console", "/api"}
    for key, prefix in ((CONSOLE_APP, "/console"), (AGENT_API, "/api")):
        assert all(r.canonical.startswith(prefix) for r in root[key].router.resources())


async def test_the_open_routes_are_exactly_the_sign_in_ones(client):
    assert _public(client.server.app[CONSOLE_APP]) == {
        ("GET", "/console/login"),
        ("HEAD", "/console/login"),
        ("POST", "/console/login"),
        ("GET", "/console/static"),
        ("HEAD", "/console/static"),
    }
    assert _public(client.server.app[AGENT_API]) == {
        ("GET", "/api/login"),
        ("POST", "/api/login"),
    }
    for url in ("/console/login", "/api/login", "/console/static/console.js"):
        assert (await client.get(url)).status == 200, url


async def test_signed_in_agents_pass_the_sub_apps_guard(client):
    csrf = await sign_in(client, "bob")
    assert (await client.get("/api/tickets")).status == 200
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    assert (await client.get("/console", allow_redirects=False)).headers["Location"] == "/console/"
    assert (await client.get("/api/no-such-thing")).status == 404
    changed = await client.post("/api/tickets/1/claim", json={}, headers={"X-CSRF-Token": csrf})
    assert changed.status == 404  # past the guard: the ticket does not exist
    refused = await client.post("/api/tickets/1/claim", json={})
    assert refused.status == 403
    assert await refused.json() == {"error": "missing or wrong CSRF token"}


async def test_the_widget_history_stays_open_beside_the_agent_api(client):
    assert (await client.get("/api/tickets")).status == 401
    answer = await client.post("/api/widget/history", json={"session_id": "not a secret"})
    assert answer.status == 400  # the widget's own answer, not the agent API's 401
    assert await answer.json() == {"error": "bad session_id"}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    in_url = await client.get("/api/widget/history")
    assert in_url.status == 400 and "must not be in the URL" in (await in_url.json())["error"]
    assert (await client.options("/api/widget/history")).status == 204
    assert (await client.get("/health")).status in (200, 503)  # public: no sign-in asked


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/health", None),
        ("GET", "/widget.js", 200),
        ("GET", "/demo", 200),
        ("POST", "/api/widget/history", 400),
        ("GET", "/console/login", 200),
        ("GET", "/console/static/console.js", 200),
        ("GET", "/console/", 303),
        ("GET", "/api/tickets", 401),
        ("POST", "/api/login", 403),
        ("GET", "/no-such-page", 404),
    ],
)
async def test_every_answer_carries_the_security_headers(client, method, url, status):
    response = await client.request(method, url, json={}, allow_redirects=False)
    assert status is None or response.status == status
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if response.content_type in ("text/html", "application/json"):
        assert response.headers["Cache-Control"] == "no-store"
    if url != "/demo":  # the demo page lets its widget reach the bot's host
        assert response.headers["Content-Security-Policy"] == CSP


def test_a_route_is_open_only_when_named_so():
    api = create_agent_api()
    before = set(api[PUBLIC])
    route = api.router.add_get("/new-thing", lambda request: web.Response())
    assert route.resource not in api[PUBLIC] and set(api[PUBLIC]) == before
    allow_anonymous(api, route)
    assert route.resource in api[PUBLIC]
