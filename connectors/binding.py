"""Conversations belong to a channel and an identity.

A conversation (a sender id) is bound to the channel it started on: a message for it from
another channel is refused, so nobody can write into a WeChat customer's conversation over
REST or make an agent's reply go elsewhere. Once a message in it proved a shop customer
(``customer_id`` with its ``customer_hash``, see ``bot.domain.identity``), only messages proving the
same customer are accepted: another signed-in customer, or a signed-out browser, starts a
conversation of its own instead of taking this one over.

Both facts are read from the conversation's tracker (all its sessions), where Rasa keeps every
message with its input channel and metadata; nothing else has to be stored. Once they cannot
change any more they are remembered, and the tracker is not read again for them
(:class:`ConversationBinding`). Import rule: Rasa and the standard library only (the HMAC
check repeats ``bot.domain.identity.sign`` because connectors run in Rasa's venv and never import
``bot``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.events import UserUttered

from connectors.gate import Refused, reply_for
from vocabulary import MetadataKey

# Conversations whose binding a channel remembers (a few hundred bytes each).
MAX_REMEMBERED = 10_000


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


@dataclass(frozen=True)
class Binding:
    """What a conversation's stored messages bind it to: the channel of its first message and
    the shop customer the latest proving message proved (None: none proved one yet)."""

    channel: str | None
    owner: str | None


def binding_of(messages: Sequence[UserUttered], secret: str) -> Binding:
    """The binding the stored ``messages`` of a conversation establish."""
    started_on = next((m.input_channel for m in messages if m.input_channel), None)
    owner = next(
        (
            found
            for m in reversed(messages)
            if (found := proven_customer(m.metadata, secret)) is not None
        ),
        None,
    )
    return Binding(started_on, owner)


class ConversationBinding:
    """Refuses messages that would move a conversation to another channel or identity.

    Bindings that can no longer change are remembered in a bounded LRU (:data:`MAX_REMEMBERED`
    conversations, per channel and process), so that the tracker is read only until then: a
    conversation's channel is fixed by its first message, and its owner once a message proved
    one, or for good when there is no identity secret (nothing can prove a customer). An
    anonymous conversation could still be claimed by a proving message, perhaps on another
    Rasa server, so its tracker is read every time while an identity secret is set. Every
    Rasa server reaches the same answer, with or without what it remembers.
    """

    def __init__(self, identity_secret: str = "", remembered: int = MAX_REMEMBERED) -> None:
        self._secret = identity_secret
        self._remembered = remembered
        self._known: OrderedDict[str, Binding] = OrderedDict()

    def _final(self, binding: Binding) -> bool:
        return binding.channel is not None and (binding.owner is not None or not self._secret)

    def _recall(self, sender_id: str) -> Binding | None:
        binding = self._known.get(sender_id)
        if binding is not None:
            self._known.move_to_end(sender_id)
        return binding

    def _remember(self, sender_id: str, binding: Binding) -> None:
        self._known[sender_id] = binding
        self._known.move_to_end(sender_id)
        while len(self._known) > self._remembered:
            self._known.popitem(last=False)

    async def _stored(self, tracker_store: Any, sender_id: str) -> Binding | None:
        """The binding the conversation's messages in every session establish, if any."""
        tracker = await tracker_store.retrieve_full_tracker(sender_id)
        if tracker is None:
            return None
        messages = [e for e in tracker.events if isinstance(e, UserUttered)]
        binding = binding_of(messages, self._secret)
        if self._final(binding):
            self._remember(sender_id, binding)
        return binding

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
        binding = self._recall(sender_id) or await self._stored(tracker_store, sender_id)
        if binding is None:
            return
        if binding.channel and binding.channel != channel:
            raise Refused(
                "wrong_channel", f"this conversation belongs to the {binding.channel} channel", 409
            )
        if binding.owner is not None and proven_customer(metadata, self._secret) != binding.owner:
            raise Refused(
                "wrong_identity",
                "this conversation belongs to another signed-in customer",
                403,
                reply_for("wrong_identity", language),
            )
