"""The agent console: two sub-applications of the web service, for signed-in agents only.

- :func:`create_console_app`, mounted at :data:`CONSOLE_PREFIX`: the server-rendered pages
  (:mod:`.pages`), with their Jinja2 templates and static files;
- :func:`create_agent_api`, mounted at :data:`API_PREFIX`: the JSON API (:mod:`.api`).

Each sub-application guards its own routes (:mod:`.security`): all need a signed-in agent but
the sign-in ones. Their handlers read the root application's keys (:mod:`bot.web.keys`) with
``request.config_dict[KEY]``. The root application mounts them:

>>> root = web.Application()
>>> root.add_subapp(CONSOLE_PREFIX, create_console_app())  # doctest: +ELLIPSIS
<PrefixedSubAppResource /console -> <Application ...>>
>>> root.add_subapp(API_PREFIX, create_agent_api())  # doctest: +ELLIPSIS
<PrefixedSubAppResource /api -> <Application ...>>
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.web.console import api, i18n, labels, pages, saved_replies, team
from bot.web.console.locales import html_lang, locale_label
from bot.web.console.security import API_REFUSALS, PAGE_REFUSALS, agents_only_app

CONSOLE_PREFIX = "/console"
API_PREFIX = "/api"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_console_app() -> web.Application:
    """The console's pages, for :data:`CONSOLE_PREFIX`; without a session they redirect to the
    sign-in form."""
    app = agents_only_app(PAGE_REFUSALS)
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"locale_label": locale_label, "html_lang": html_lang, **labels.FILTERS},
    )
    i18n.install(environment)
    pages.add_routes(app)
    team.add_page_routes(app)
    saved_replies.add_page_routes(app)
    return app


def create_agent_api() -> web.Application:
    """The agents' JSON API, for :data:`API_PREFIX`; without a session it answers 401."""
    app = agents_only_app(API_REFUSALS)
    api.add_routes(app)
    team.add_api_routes(app)
    saved_replies.add_api_routes(app)
    return app
