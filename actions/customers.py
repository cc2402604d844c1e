"""What the actions know of the customer writing: their profile in the application database."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.db import create_engine, session_factory
from bot.identity import verify
from bot.models import Customer
from bot.profiles import returning_customer
from bot.settings import Settings

log = logging.getLogger(__name__)

_sessions = None


def _session_factory():
    # Created on first use, inside the action server's event loop, which the engine binds to.
    global _sessions
    if _sessions is None:
        settings = Settings()
        _sessions = (session_factory(create_engine(settings.database_url)), settings)
    return _sessions


async def known_customer(sender_id: str, metadata: Mapping | None) -> Customer | None:
    """The returning customer writing in ``sender_id``, or None (new, or no database)."""
    try:
        sessions, settings = _session_factory()
        verified = verify(metadata, settings.identity_secret.get_secret_value())
        async with sessions() as session:
            return await returning_customer(session, sender_id, verified)
    except Exception as exc:  # a profile is a nicety: never let it break the conversation
        log.warning("customer profile unavailable: %s", exc)
        return None
