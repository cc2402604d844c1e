"""What the widget shows before the customer writes, as the shop set it up: a greeting, whether
a pre-chat form asks for a name and an e-mail address, and whether people answer now.

``GET /widget/options?lang=zh-TW`` answers any page (no customer data, nothing secret)::

    {"greeting": "您好！", "prechat_form": false, "agents": "offline"}

``agents`` is what the bot would promise on a handoff (:func:`bot.domain.handoff.promise`):
``online`` (an agent is online), ``offline`` (open hours, nobody online) or ``closed``
(outside business hours).
"""

from __future__ import annotations

from functools import cache

from aiohttp import web
from opencc import OpenCC

from bot.domain.handoff import Promise, promise
from bot.settings import Settings
from bot.web.keys import SESSIONS, SETTINGS
from bot.web.rate_limit import RATE_LIMITS, RateLimiter
from bot.web.widget.public import limit, open_to_pages
from vocabulary import locale_from_tag

OPTIONS_PATH = "/widget/options"
RATE_LIMIT = 60  # per address and minute: one per page view, and the open panel's refresh
AGENTS = {Promise.SOON: "online", Promise.LATER: "offline", Promise.CLOSED: "closed"}
# OpenCC's conversions of the Simplified greeting, as the widget's own texts are made.
TRADITIONAL = {"zh-TW": "s2twp", "zh-HK": "s2hk"}
LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_options_rate_limiter")


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def greeting(settings: Settings, locale: str) -> str:
    """The shop's greeting in ``locale`` (en, zh, zh-TW, zh-HK); empty when it set none.

    >>> shop = Settings(widget_greeting="Hi!", widget_greeting_zh="您好，有什么可以帮您？")
    >>> greeting(shop, "en"), greeting(shop, "zh"), greeting(shop, "zh-TW")
    ('Hi!', '您好，有什么可以帮您？', '您好，有什麼可以幫您？')
    """
    if locale == "en":
        return settings.web.widget_greeting
    text = settings.web.widget_greeting_zh
    config = TRADITIONAL.get(locale)
    return _converter(config).convert(text) if config and text else text


async def options(request: web.Request) -> web.Response:
    """GET /widget/options ``?lang=``: the widget's options (see the module).

    Raises:
        HTTPTooManyRequests: more than :data:`RATE_LIMIT` requests a minute from the address.
    """
    await limit(request, request.app[LIMITER])
    settings = request.app[SETTINGS]
    locale = locale_from_tag(request.query.get("lang")) or "en"
    async with request.app[SESSIONS]() as session:
        now = await promise(session, settings.handoff)
    return open_to_pages(
        web.json_response(
            {
                "greeting": greeting(settings, locale),
                "prechat_form": settings.web.widget_prechat_form,
                "agents": AGENTS[now],
            }
        )
    )


def add_routes(app: web.Application) -> None:
    app[LIMITER] = app[RATE_LIMITS].limiter("widget-options", RATE_LIMIT, 60.0)
    app.router.add_get(OPTIONS_PATH, options)
