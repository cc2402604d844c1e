"""What every signed-in console page's header shows, and what every page's template and script
need to speak the agent's language and tell the agent's time.

The header: the agent, their status (online or away), the tickets per status, the pages, for
admins the count of dead letters (events ingestion set aside, see
:mod:`bot.web.console.dead_letters`), and the agent's preferences (language, time zone; sound
and notifications are the browser's, kept by ``console.js``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.console.client_text import client_text
from bot.web.console.locales import console_language, html_lang
from bot.web.console.preferences import counts, preferences
from bot.web.console.security import current_agent
from bot.web.console.timefmt import clock
from bot.web.keys import SESSIONS, SETTINGS
from bot.workers.deadletters import count_dead_letters


async def navigation(request: web.Request) -> dict[str, Any]:
    """The template context of the page header, for a request of a signed-in agent.

    Returns:
        ``agent``; ``agent_status``: ``"online"`` or ``"away"``; ``dead_letters``: their count
        for an admin, None for other agents; ``counts``: tickets per status and ``mine``;
        ``ui_language``: the interface's language (``en``, ``zh``: what ``_()`` translates
        into); ``ui_lang``: it as an HTML ``lang``; ``clock``: the agent's
        :class:`~bot.web.console.timefmt.Clock`; ``when``: its ``time_tag``; ``timezone``: the
        agent's zone name; ``chosen_timezone``: theirs, None for the shop's; ``client``: what
        ``console.js`` reads from the page (its words, the zone, the first-response target).
    """
    agent = current_agent(request)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONS]() as session:
        prefs = await preferences(session, agent.agent_id, request.headers.get("Accept-Language"))
        tickets = await counts(session, agent.agent_id)
        dead_letters = await count_dead_letters(session) if agent.is_admin else None
    agent_clock = clock(prefs.timezone, settings.handoff.business_timezone, prefs.language)
    return {
        "agent": agent,
        "agent_status": prefs.status,
        "dead_letters": dead_letters,
        "counts": tickets,
        "ui_language": prefs.language,
        "ui_lang": html_lang(prefs.language),
        "clock": agent_clock,
        "when": agent_clock.time_tag,
        "timezone": agent_clock.tz.key,
        "chosen_timezone": prefs.timezone,
        "shop_timezone": settings.handoff.business_timezone,
        "client": {
            "agentId": agent.agent_id,
            "language": prefs.language,
            "timezone": agent_clock.tz.key,
            "target": settings.handoff.first_response_target,
            "text": client_text(prefs.language),
        },
    }


def anonymous_context(request: web.Request) -> dict[str, Any]:
    """The context of a page for someone not signed in (the sign-in form): the browser's
    language."""
    language = console_language(request.headers.get("Accept-Language"))
    return {"agent": None, "ui_language": language, "ui_lang": html_lang(language)}
