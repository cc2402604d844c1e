"""What the widget's public endpoints share: answers any shop's page may read (CORS ``*``, no
cookies, never cached), JSON errors, a rate limit per address, and bounded JSON bodies.

>>> response = open_to_pages(web.Response())
>>> response.headers["Access-Control-Allow-Origin"], response.headers["Cache-Control"]
('*', 'no-store')
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web

from bot.web.inputs import BadInput, BodyTooLarge, read_json_body
from bot.web.rate_limit import RateLimiter

R = TypeVar("R", bound=web.StreamResponse)


def open_to_pages(response: R) -> R:
    """``response``, readable by a script on any page and never cached."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


def refused(status: type[web.HTTPException], message: str, **kwargs: Any) -> web.HTTPException:
    """A JSON error ``{"error": message}`` the widget's script, on another origin, may read."""
    error = status(text=json.dumps({"error": message}), content_type="application/json", **kwargs)
    open_to_pages(error)
    return error


async def limit(request: web.Request, limiter: RateLimiter) -> None:
    """Raises a 429 when the client's address has used up its requests (on every web service,
    with Redis: see :mod:`bot.web.rate_limit`)."""
    if not await limiter.allow(request.remote or "unknown"):
        raise refused(web.HTTPTooManyRequests, "too many requests")


async def json_body(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object, read no further than ``max_bytes``; a 413 or a 400 else."""
    try:
        return await read_json_body(request, max_bytes)
    except BodyTooLarge as exc:
        raise refused(
            web.HTTPRequestEntityTooLarge,
            "the body is too large",
            max_size=exc.max_size,
            actual_size=exc.actual_size,
        ) from None
    except BadInput as exc:
        raise refused(web.HTTPBadRequest, str(exc)) from None


async def json_preflight(request: web.Request) -> web.Response:
    """OPTIONS: shops' pages on other origins may POST JSON here."""
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return open_to_pages(response)
