"""What the actions know of the customer writing: their profile in the application database."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from actions.services import Services
from bot.domain.customers import returning_customer
from bot.domain.identity import verify
from bot.store.models import Customer

log = logging.getLogger(__name__)


async def known_customer(
    services: Services, sender_id: str, metadata: Mapping | None
) -> Customer | None:
    """The returning customer writing in ``sender_id``, or None (new, or no database)."""
    try:
        verified = verify(metadata, services.settings.privacy.identity_secret.get_secret_value())
        async with services.sessions() as session:
            return await returning_customer(session, sender_id, verified)
    except Exception as exc:  # a profile is a nicety: never let it break the conversation
        log.warning("customer profile unavailable: %s", exc)
        return None
