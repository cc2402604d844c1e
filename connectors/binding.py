"""Conversations belong to a channel and an identity.

A conversation (a sender id) is bound to the channel it started on: a message for it from
another channel is refused, so nobody can write into a WeChat customer's conversation over
REST or make an agent's reply go elsewhere. Once a message in it proved a shop customer
(``customer_id`` with its ``customer_hash``, see ``bot.identity``), only messages proving the
same customer are accepted: another signed-in customer, or a signed-out browser, starts a
conversation of its own instead of taking this one over.

Both facts are read from the conversation's tracker, where Rasa keeps every message with its
input channel and metadata; nothing else has to be stored. Import rule: Rasa and the standard
library only (the HMAC check repeats ``bot.identity.sign`` because connectors run in Rasa's
venv and never import ``bot``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from rasa.shared.core.events import UserUttered

from connectors.gate import Refused, reply_for
from vocabulary import MetadataKey


def proven_customer(metadata: Mapping[str, Any] | None, secret: str) -> str | None:
    """The shop customer id ``metadata`` proves with the shared secret, if any."""
    if not secret or not isinstance(metadata, Mapping):
        return None
    customer_id, signature = (
        metadata.get(MetadataKey.CUSTOMER_ID),
        metadata.get(MetadataKey.CUSTOMER_HASH),
    )
    if not isinstance(customer_id, str) or not isinstance(signature, str) or not customer_id:
        return None
    expected = hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
    given = signature.strip().lower().encode("utf-8", "replace")  # non-ASCII never matches
    return customer_id if hmac.compare_digest(expected.encode(), given) else None


class ConversationBinding:
    """Refuses messages that would move a conversation to another channel or identity."""

    def __init__(self, identity_secret: str = "") -> None:
        self._secret = identity_secret

    async def check(
        self,
        tracker_store: Any,
        sender_id: str,
        channel: str,
        metadata: Mapping[str, Any],
        language: str,
    ) -> None:
        """Raise :class:`Refused` when ``sender_id``'s conversation is not this caller's."""
        if tracker_store is None:
            return
        tracker = await tracker_store.retrieve(sender_id)
        if tracker is None:
            return
        messages = [e for e in tracker.events if isinstance(e, UserUttered)]
        started_on = next((m.input_channel for m in messages if m.input_channel), None)
        if started_on and started_on != channel:
            raise Refused(
                "wrong_channel", f"this conversation belongs to the {started_on} channel", 409
            )
        owner = next(
            (
                found
                for m in reversed(messages)
                if (found := proven_customer(m.metadata, self._secret)) is not None
            ),
            None,
        )
        if owner is not None and proven_customer(metadata, self._secret) != owner:
            raise Refused(
                "wrong_identity",
                "this conversation belongs to another signed-in customer",
                403,
                reply_for("wrong_identity", language),
            )
