"""The widget's pre-chat form (``WIDGET_PRECHAT_FORM``): a name and an e-mail address into the
profile of the customer whose conversation it is, where agents see them.

``POST /widget/contact {"session_id": SECRET, "name": ..., "email": ...[, "customer_id",
"customer_hash"]}`` answers 204. Like the history (:mod:`.history`), only the holder of the
conversation's secret may write to it, a signed-in customer's conversation only with their
signature, and what a profile already holds (the shop's own data) is never overwritten.

>>> parse_contact({"name": " Li Lei ", "email": "li@example.com"})
Contact(name='Li Lei', email='li@example.com')
>>> parse_contact({"name": "", "email": "li@example.com"})
Traceback (most recent call last):
...
bot.web.inputs.BadInput: name: 1 to 100 characters
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.customers import resolve_conversation
from bot.domain.identity import verify
from bot.domain.transcripts import ConversationOfAnother, transcript
from bot.store.models import Customer
from bot.web.inputs import BadInput
from bot.web.keys import SESSIONS, SETTINGS
from bot.web.rate_limit import RATE_LIMITS, RateLimiter
from bot.web.widget.public import json_body, json_preflight, limit, open_to_pages, refused
from connectors.widget_session import valid_secret, widget_sender_id
from vocabulary import MetadataKey

CONTACT_PATH = "/widget/contact"
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_CONTACT_BODY_BYTES = 4096
RATE_LIMIT = 10  # forms per address and minute
CHANNEL = "socketio"  # the widget's conversations are on Rasa's socket.io channel
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
SIGNATURE = (MetadataKey.CUSTOMER_ID.value, MetadataKey.CUSTOMER_HASH.value)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_contact_rate_limiter")


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


def parse_contact(body: dict[str, Any]) -> Contact:
    """The name and e-mail address of the form; :class:`BadInput` saying which is wrong."""
    name, email = body.get("name"), body.get("email")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME_CHARS:
        raise BadInput(f"name: 1 to {MAX_NAME_CHARS} characters")
    if (
        not isinstance(email, str)
        or len(email.strip()) > MAX_EMAIL_CHARS
        or not _EMAIL.fullmatch(email.strip())
    ):
        raise BadInput("email: an e-mail address like name@example.com")
    return Contact(" ".join(name.split()), email.strip())


async def save_contact(
    session: AsyncSession,
    sender_id: str,
    contact: Contact,
    signature: Mapping[str, Any],
    identity_secret: str,
) -> None:
    """Fill the empty name and e-mail of the profile of conversation ``sender_id`` (made now if
    the customer has not written yet); ``signature``: the widget's ``customer_id`` and
    ``customer_hash``, if the shop signed its customer in.

    Raises:
        ConversationOfAnother: a signed-in customer's conversation, and ``signature`` does not
            prove them.
    """
    proven = verify(signature, identity_secret)
    await transcript(session, sender_id, proven, 0)  # checks whose it is; reads no message
    conversation = await resolve_conversation(
        session, sender_id, signature, CHANNEL, datetime.now(UTC), identity_secret
    )
    customer = await session.get_one(Customer, conversation.customer_id)
    customer.name = customer.name or contact.name
    customer.email = customer.email or contact.email


async def contact(request: web.Request) -> web.Response:
    """POST /widget/contact (see the module).

    Raises:
        HTTPBadRequest: no JSON object, a malformed ``session_id``, a bad name or address.
        HTTPForbidden: a signed-in customer's conversation without their signature.
        HTTPTooManyRequests: more than :data:`RATE_LIMIT` forms a minute from the address.
    """
    await limit(request, request.app[LIMITER])
    body = await json_body(request, MAX_CONTACT_BODY_BYTES)
    secret = body.get("session_id")
    if not isinstance(secret, str) or not valid_secret(secret):
        raise refused(web.HTTPBadRequest, "bad session_id")
    try:
        form = parse_contact(body)
    except BadInput as exc:
        raise refused(web.HTTPBadRequest, str(exc)) from None
    identity_secret = request.app[SETTINGS].privacy.identity_secret.get_secret_value()
    signature = {key: body[key] for key in SIGNATURE if key in body}
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            await save_contact(session, widget_sender_id(secret), form, signature, identity_secret)
    except ConversationOfAnother as exc:
        raise refused(web.HTTPForbidden, str(exc)) from None
    return open_to_pages(web.Response(status=204))


def add_routes(app: web.Application) -> None:
    app[LIMITER] = app[RATE_LIMITS].limiter("widget-contact", RATE_LIMIT, 60.0)
    app.router.add_post(CONTACT_PATH, contact)
    app.router.add_route("OPTIONS", CONTACT_PATH, json_preflight)
