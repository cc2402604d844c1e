"""What every signed-in console page's header shows: the agent and, for admins, the count of
dead letters (events ingestion set aside, see :mod:`bot.web.console.dead_letters`), with the
console's words in the language the agent's browser prefers (:mod:`bot.web.console.locales`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.console.locales import console_language, console_text, html_lang
from bot.web.console.security import current_agent
from bot.web.keys import SESSIONS
from bot.workers.deadletters import count_dead_letters


async def navigation(request: web.Request) -> dict[str, Any]:
    """The template context of the page header, for a request of a signed-in agent.

    Returns:
        ``agent``; ``dead_letters``: their count for an admin, None for other agents;
        ``ui``: the console's words (:data:`~bot.web.console.locales.CONSOLE_TEXT`);
        ``ui_lang``: their language as an HTML ``lang``.
    """
    agent = current_agent(request)
    language = console_language(request.headers.get("Accept-Language"))
    dead_letters = None
    if agent.is_admin:
        async with request.config_dict[SESSIONS]() as session:
            dead_letters = await count_dead_letters(session)
    return {
        "agent": agent,
        "dead_letters": dead_letters,
        "ui": console_text(language),
        "ui_lang": html_lang(language),
    }
