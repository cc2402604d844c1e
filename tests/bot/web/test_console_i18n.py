"""The console in the agent's language and time zone: the message catalogue is complete, an
agent's language comes from their browser at sign-in and from their own choice later, times
show in their zone, and the preferences API refuses what it does not know."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.store.models import Agent, Ticket
from bot.web.console import catalogue
from bot.web.console.client_text import MESSAGES
from bot.web.console.i18n import translations
from tests.bot.conftest import PASSWORDS, a_ticket

CONSOLE_JS = Path(catalogue.CONSOLE) / "static" / "console.js"


def test_every_console_message_has_its_chinese():
    found = catalogue.extract()
    assert len(found) > 250
    assert catalogue.untranslated(catalogue.merged("zh", found)) == []
    assert catalogue.main(["--check"]) == 0  # the .po file holds exactly the code's messages


def test_the_script_asks_only_for_words_the_page_gives_it():
    asked = set(re.findall(r'\bt\("(\w+)"', CONSOLE_JS.read_text()))
    assert asked and asked <= MESSAGES.keys()
    assert not re.search(r"textContent = \"[A-Za-z]", CONSOLE_JS.read_text())  # no English


def test_a_missing_translation_shows_the_english():
    assert translations("zh").gettext("a message nobody translated") == (
        "a message nobody translated"
    )


async def sign_in_with_browser(client, name: str, accept_language: str) -> str:
    client.session.cookie_jar.clear()
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    response = await client.post(
        "/api/login",
        json={"username": name, "password": PASSWORDS[name]},
        headers={"X-CSRF-Token": token, "Accept-Language": accept_language},
    )
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def language_of(sessions, username: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Agent.language).where(Agent.username == username))


async def test_the_browser_chooses_the_language_at_sign_in_then_the_agent_does(client, sessions):
    await a_ticket(sessions)
    csrf = await sign_in_with_browser(client, "bob", "zh-CN,zh;q=0.9,en;q=0.5")
    assert await language_of(sessions, "bob") == "zh"
    queue = await (await client.get("/console/", headers={"Accept-Language": "en"})).text()
    assert '<html lang="zh-CN">' in queue and "<h1>工单</h1>" in queue  # the agent's, not now's
    assert "访客 " in queue and "待处理" in queue  # a customer without a name; a status

    chosen = await client.post(
        "/api/me/preferences", json={"language": "en"}, headers={"X-CSRF-Token": csrf}
    )
    assert chosen.status == 200 and (await chosen.json())["language"] == "en"
    queue = await (await client.get("/console/", headers={"Accept-Language": "zh-CN"})).text()
    assert '<html lang="en">' in queue and "<h1>Tickets</h1>" in queue and "Visitor " in queue
    await sign_in_with_browser(client, "bob", "zh-CN")  # a choice outlives the next sign-in
    assert await language_of(sessions, "bob") == "en"


async def test_the_preferences_refuse_what_they_do_not_know(client, sessions):
    csrf = await sign_in_with_browser(client, "bob", "en")
    for body in (
        {"language": "fr"},
        {"language": None},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"timezone": 8},
        {"colour": "blue"},
        {},
    ):
        refused = await client.post(
            "/api/me/preferences", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert refused.status == 400, body
        assert "error" in await refused.json()
    forged = await client.post("/api/me/preferences", json={"language": "zh"})
    assert forged.status == 403  # no CSRF token
    assert await language_of(sessions, "bob") == "en"  # nothing changed
    now = await (await client.get("/api/me/preferences")).json()
    assert now == {"language": "en", "timezone": None, "effective_timezone": "Asia/Shanghai"}


async def test_times_show_in_the_agents_zone_relative_with_the_absolute_on_hover(client, sessions):
    ticket_id = await a_ticket(sessions)
    opened = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(created_at=opened)
        )
    csrf = await sign_in_with_browser(client, "bob", "en")
    html = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'title="2026-03-02 09:30 (Asia/Shanghai)">2026-03-02</time>' in html  # the shop's zone
    moved = await client.post(
        "/api/me/preferences", json={"timezone": "Europe/Berlin"}, headers={"X-CSRF-Token": csrf}
    )
    assert (await moved.json())["effective_timezone"] == "Europe/Berlin"
    html = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'title="2026-03-02 02:30 (Europe/Berlin)">2026-03-02</time>' in html
    assert '"timezone": "Europe/Berlin"' in html  # for the script's own times

    recent = datetime.now(UTC) - timedelta(minutes=3, seconds=5)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(created_at=recent)
        )
    html = await (await client.get("/console/")).text()
    assert re.search(r'title="[-0-9 :]+ \(Europe/Berlin\)" data-relative>3 min ago</time>', html)
    await client.post(
        "/api/me/preferences", json={"language": "zh"}, headers={"X-CSRF-Token": csrf}
    )
    html = await (await client.get("/console/")).text()
    assert "data-relative>3 分钟前</time>" in html
