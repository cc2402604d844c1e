"""Undoing a turn whose action server call failed, so that the message can be handled again."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import ActionExecuted, UserUtteranceReverted, UserUttered

from vocabulary import MetadataKey


async def undo_failed_turn(agent: Any, sender_id: str, message_id: str) -> bool:
    """Rewind the turn of the message ``message_id`` in its tracker when it is still the
    conversation's last and called the action server (whose events Rasa dropped), so that the
    message sent again is handled as the first try. True when the turn was undone.

    Rasa's ``UserUtteranceReverted`` leaves the events in the tracker store and the event
    stream, but Rasa's dialogue state no longer counts them. Its metadata names the undone
    message and its timestamp, so that the profile keeps only the copy sent again (Rasa's own
    rewinds, such as the core fallback's, carry none: their message stays).
    """
    tracker_store = getattr(agent, "tracker_store", None)
    lock_store = getattr(agent, "lock_store", None)
    domain = getattr(agent, "domain", None)
    if tracker_store is None or lock_store is None or domain is None:
        return False
    custom = set(domain.user_actions)
    async with lock_store.lock(sender_id):
        tracker = await tracker_store.retrieve(sender_id)
        events = list(tracker.events) if tracker is not None else []
        starts = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
        if not starts or events[starts[-1]].message_id != message_id:
            return False  # not stored, or another message followed it
        turn = events[starts[-1] :]
        if not any(isinstance(e, ActionExecuted) and e.action_name in custom for e in turn):
            return False
        undone = {
            MetadataKey.UNDONE_MESSAGE_ID.value: message_id,
            MetadataKey.UNDONE_AT.value: turn[0].timestamp,
        }
        tracker.update(UserUtteranceReverted(metadata=undone))
        await tracker_store.save(tracker)
    return True
