"""The dashboard in the console: the insights of a range at a glance, against the range before.

``GET /console/dashboard`` takes the query of ``GET /api/insights``
(:mod:`bot.web.console.insights`, checked by the same :func:`requested_filter`), with defaults:
``from``/``to`` the last :data:`DEFAULT_DAYS` days in ``BUSINESS_TIMEZONE``, ``group`` ``day``;
and ``lang`` (``en`` or ``zh``) to override the browser's ``Accept-Language``. It shows

- number cards, each with its change against the previous period of the same length (the
  days just before ``from``); tickets waiting now have no previous period;
- charts (:mod:`bot.web.console.charts`) with their figures in tables: conversations and
  bot resolution / handoff rates per day or week, the handoff reasons, satisfaction 1–5;
- the FAQ entries that served worst (most "not helpful" and handoffs after them), with their
  question in the page's language;
- the agents' ticket figures: every agent's for admins, an agent's own row for an agent.

Two reports make the page, the range's and the previous period's (without its series); the
FAQ's texts are read again only when the FAQ changed (:class:`bot.domain.faq_texts.FaqTexts`).
Bad input: 400 (403 for another agent's figures asked by an agent), as plain text. The words
are :mod:`bot.web.console.dashboard_text`'s; customers' and agents' texts are escaped (Jinja2).
This module handles the request (the filters, their defaults, the previous period); the parts
of the page are :mod:`~bot.web.console.dashboard_cards`, :mod:`~bot.web.console.dashboard_charts`
and :mod:`~bot.web.console.dashboard_faq`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.domain.insights import InsightsFilter, insights
from bot.domain.insights.filters import FIRST_DAY
from bot.web.console.dashboard_cards import cards, duration
from bot.web.console.dashboard_charts import mix_charts, series_charts
from bot.web.console.dashboard_faq import with_questions, worst_entries
from bot.web.console.dashboard_text import dashboard_language, translator
from bot.web.console.insights import requested_filter, visible_to
from bot.web.console.locales import LABELS, html_lang
from bot.web.console.nav import navigation
from bot.web.console.security import current_agent
from bot.web.console.views import active_agents
from bot.web.inputs import BadInput
from bot.web.keys import SESSIONS, SETTINGS
from vocabulary import LOCALES

PAGE_PATH = "/console/dashboard"
ROUTE = "/dashboard"  # under the console's mount point: PAGE_PATH
EXPORT_PATH = "/api/insights/export.csv"
DEFAULT_DAYS = 30
CHANNELS = {"widget": "Web widget", "wechat": "WeChat", "other": "Other channels"}


def dashboard_query(query: Mapping[str, str], today: date) -> dict[str, str]:
    """``query`` with the dashboard's defaults for what it leaves out or empty.

    >>> dashboard_query({"channel": "wechat"}, date(2026, 3, 31))["from"]
    '2026-03-02'
    """
    given = {name: value for name, value in query.items() if name != "lang"}
    if not given.get("to"):
        given["to"] = today.isoformat()
    if not given.get("from"):
        given["from"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    given["group"] = given.get("group") or "day"
    return given


def previous(flt: InsightsFilter) -> InsightsFilter | None:
    """The period of the same length just before ``flt``'s, its whole range only (no series);
    ``None`` when it would begin before the first day a report may cover.

    >>> flt = InsightsFilter(date(2026, 3, 2), date(2026, 3, 8))
    >>> before = previous(flt)
    >>> before.start.isoformat(), before.end.isoformat()
    ('2026-02-23', '2026-03-01')
    >>> previous(InsightsFilter(FIRST_DAY, FIRST_DAY)) is None
    True
    """
    start = flt.start - timedelta(days=flt.days)
    if start < FIRST_DAY:
        return None
    return dataclasses.replace(flt, start=start, end=flt.start - timedelta(days=1), group=None)


def _export_query(flt: InsightsFilter) -> str:
    wanted = {
        "from": flt.start.isoformat(),
        "to": flt.end.isoformat(),
        "group": flt.group.value if flt.group else "",
        "channel": flt.channel.value if flt.channel else "",
        "language": flt.language or "",
        "agent": str(flt.agent_id) if flt.agent_id else "",
    }
    return urlencode({name: value for name, value in wanted.items() if value})


async def page(request: web.Request) -> web.Response:
    """GET /console/dashboard (see the module's docstring)."""
    agent = current_agent(request)
    settings = request.config_dict[SETTINGS]
    hours = settings.handoff.hours
    nav = await navigation(request)
    try:
        language = dashboard_language(request.query.get("lang"), nav["ui_language"])
        today = datetime.now(hours.timezone).date()
        flt = requested_filter(dashboard_query(request.query, today), agent)
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    except PermissionError as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    _ = translator(language)
    before = previous(flt)
    async with request.config_dict[SESSIONS]() as session:
        now_report = visible_to(await insights(session, flt, hours), agent)
        before_report = await insights(session, before, hours) if before else None
        worst = worst_entries(now_report["faq_entries"])
        entries = await with_questions(session, settings.web.faq_sources, worst, language)
        agents = await active_agents(session) if agent.is_admin else []
    context = {
        **nav,
        "_": _,
        "page_lang": html_lang(language),
        "lang_override": request.query.get("lang", ""),
        "report": now_report,
        "before": before_report,
        "cards": cards(now_report, before_report, _),
        "charts": series_charts(now_report["series"], _) + mix_charts(now_report, _),
        "entries": entries,
        "agent_rows": now_report["agents"],
        "duration": lambda seconds: "–" if seconds is None else duration(seconds, _),
        "filters": {
            "from": flt.start.isoformat(),
            "to": flt.end.isoformat(),
            "group": flt.group.value if flt.group else "day",
            "channel": flt.channel.value if flt.channel else "",
            "language": flt.language or "",
            "agent": flt.agent_id,
        },
        "channels": {value: _(label) for value, label in CHANNELS.items()},
        "languages": {locale: f"{LABELS[locale]} ({locale})" for locale in LOCALES},
        "agents": agents,
        "export_url": f"{EXPORT_PATH}?{_export_query(flt)}",
    }
    return aiohttp_jinja2.render_template("dashboard.html", request, context)


def add_routes(app: web.Application) -> None:
    """The dashboard's route on ``app``, the console's pages' sub-application (mounted at
    ``/console``, with its templates)."""
    app.router.add_get(ROUTE, page)
