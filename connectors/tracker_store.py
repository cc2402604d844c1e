"""Rasa's SQL tracker store, keeping each conversation's tracker between its turns.

Rasa's :class:`~rasa.core.tracker_store.SQLTrackerStore` reads the whole conversation (since its
last session start) back from the database at every message and replays it into a tracker,
synchronously in the Rasa server's event loop: under load that was a third of everything the
server did, growing with each conversation's length (profiled with py-spy, bench/load.py).

:class:`CachedSqlTrackerStore` keeps the tracker it saved or read last for each conversation (the
:data:`CACHED_CONVERSATIONS` most recent) and hands it out again while it is still what the
database holds. One indexed query tells: the number and the highest id of the conversation's
stored events are those seen when it was cached, and nobody added events to the tracker since
without saving them (a turn that failed half-way). Another Rasa server's turn, a customer's
deletion (``python -m bot customers delete``) or any other write to the conversation's rows
changes that pair, and the tracker is read again as Rasa reads it.

It also publishes a turn's events (Rasa publishes what a save adds, by position) from the
tracker it kept, where Rasa read the conversation back once more to tell what was new.

SQLite connections commit with ``synchronous=NORMAL`` in WAL mode: a committed turn survives a
crash of any process, not a power cut.

endpoints.yml (written by ``python -m bot run``)::

    tracker_store:
      type: connectors.tracker_store.CachedSqlTrackerStore
      dialect: sqlite
      db: /srv/shop-assistant/var/rasa_tracker.db
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.sql_broker import sqlite_pragmas

CACHED_CONVERSATIONS = 2000


@dataclass(frozen=True)
class _Cached:
    stored: tuple[int, int | None]  # the conversation's stored events: how many, highest id
    length: int  # the tracker's events when it was cached
    tracker: DialogueStateTracker


class CachedSqlTrackerStore(SQLTrackerStore):
    """A :class:`SQLTrackerStore` that does not read a conversation again while its tracker is
    current."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", sqlite_pragmas)
        self._cached: OrderedDict[str, _Cached] = OrderedDict()

    def _stored(self, sender_id: str) -> tuple[int, int | None]:
        with self.session_scope() as session:
            count, highest = (
                session.query(sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id))
                .filter(self.SQLEvent.sender_id == sender_id)
                .one()
            )
        return int(count), highest

    def _remember(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        self._cached[sender_id] = _Cached(self._stored(sender_id), len(tracker.events), tracker)
        self._cached.move_to_end(sender_id)
        while len(self._cached) > CACHED_CONVERSATIONS:
            self._cached.popitem(last=False)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        cached = self._cached.get(sender_id)
        if (
            cached is not None
            and len(cached.tracker.events) == cached.length
            and self._stored(sender_id) == cached.stored
        ):
            self._cached.move_to_end(sender_id)
            return cached.tracker
        self._cached.pop(sender_id, None)
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None:
            self._remember(tracker)
        return tracker

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publishes the events added to ``tracker`` since it was stored, as Rasa does, but
        without reading the stored conversation again when ``tracker`` is the cached one and
        still stands on what is stored (Rasa's difference is by position)."""
        cached = self._cached.get(tracker.sender_id)
        if (
            self.event_broker is None
            or cached is None
            or cached.tracker is not tracker
            or self._stored(tracker.sender_id) != cached.stored
        ):
            await super().stream_events(tracker)
            return
        new_events = list(itertools.islice(tracker.events, cached.length, len(tracker.events)))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Saves as Rasa does, then keeps the tracker as the conversation's current one."""
        try:
            await super().save(tracker)
        except BaseException:
            self._cached.pop(tracker.sender_id, None)
            raise
        self._remember(tracker)
