"""The console API's errors: the one place where named exceptions become HTTP answers.

Handlers and the layers under them raise what went wrong in their own terms (bad input, a
ticket's state, a permission, a failed sign-in); :func:`json_errors` wraps every API route and
answers ``{"error": "..."}`` with the matching status, so no handler picks statuses itself:

| exception | status |
| --- | --- |
| :class:`~bot.web.inputs.BodyTooLarge` | 413 |
| :class:`~bot.web.inputs.BadInput`, ``KnowledgeError``, ``QueryError`` | 400 |
| :class:`~bot.domain.auth.TooManyAttempts` | 429 |
| :class:`~bot.domain.auth.AuthError` | 401 |
| ``PermissionError`` | 403 |
| :class:`NotFound`, :class:`~bot.domain.tickets.TicketNotFound` | 404 |
| any other ``TicketError`` (the ticket's state forbids it) | 409 |
| ``FaqIndexError`` | 503 |

Anything else is a bug, and stays a 500.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.domain.auth import AuthError, TooManyAttempts
from bot.domain.knowledge import KnowledgeError
from bot.domain.tickets import TicketError, TicketNotFound
from bot.web.inputs import BadInput, BodyTooLarge
from faq_index import FaqIndexError, QueryError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class NotFound(LookupError):
    """What the request names does not exist."""


def _error(status: type[web.HTTPException], message: str, **kwargs: Any) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json", **kwargs)


def http_error(exc: Exception) -> web.HTTPException:
    """The answer for one of the exceptions in the table above."""
    message = str(exc)
    if isinstance(exc, BodyTooLarge):
        return _error(
            web.HTTPRequestEntityTooLarge,
            message,
            max_size=exc.max_size,
            actual_size=exc.actual_size,
        )
    if isinstance(exc, BadInput | KnowledgeError | QueryError):
        return _error(web.HTTPBadRequest, message)
    if isinstance(exc, FaqIndexError):
        return _error(web.HTTPServiceUnavailable, f"the FAQ index is not available: {message}")
    if isinstance(exc, TooManyAttempts):
        return _error(web.HTTPTooManyRequests, message)
    if isinstance(exc, AuthError):
        return _error(web.HTTPUnauthorized, message)
    if isinstance(exc, PermissionError):
        return _error(web.HTTPForbidden, message)
    if isinstance(exc, NotFound | TicketNotFound):
        return _error(web.HTTPNotFound, message)
    return _error(web.HTTPConflict, message)  # a TicketError: the ticket's state forbids it


_NAMED = (
    BadInput,
    KnowledgeError,
    FaqIndexError,
    AuthError,
    PermissionError,
    TicketError,
    NotFound,
)


def json_errors(handler: Handler) -> Handler:
    """``handler``, with the named exceptions of the console's layers answered as JSON."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _NAMED as exc:
            raise http_error(exc) from None

    handle.__name__ = handler.__name__
    handle.__doc__ = handler.__doc__
    return handle
