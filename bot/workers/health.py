"""Is the web service healthy: the database answers and ingestion keeps up with the broker.

Each ingestion worker records its :class:`Progress`; ``GET /health`` turns it into a verdict
with :func:`assess`. Ingestion is degraded when events wait and no drain has succeeded for
``INGEST_STALL_SECONDS``: a database that refuses the batch, a lost broker connection, a bug
that fails every attempt. Then profiles and tickets fall behind while the service still
answers, which is what a health check is for.

>>> progress = Progress(started_at=datetime(2026, 1, 1, tzinfo=UTC))
>>> assess(progress, pending=12, now=datetime(2026, 1, 1, 0, 1, tzinfo=UTC), stall_seconds=30)
'12 events pending and none consumed for 60 s'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Progress:
    """What one ingestion worker has done since it started.

    Attributes:
        started_at: when the worker was made; stalls are measured from here until a drain.
        last_drain_at: the end of its last successful drain (a committed batch, or a look at
            the broker that found nothing).
        stored: events stored; dead_lettered: events set aside (see :mod:`bot.workers.deadletters`).
        failures: drains that failed since the last successful one.
    """

    started_at: datetime = field(default_factory=_now)
    last_drain_at: datetime | None = None
    stored: int = 0
    dead_lettered: int = 0
    failures: int = 0

    def drained(self, stored: int = 0, dead_lettered: int = 0) -> None:
        """Record a successful drain."""
        self.last_drain_at = _now()
        self.stored += stored
        self.dead_lettered += dead_lettered
        self.failures = 0

    def failed(self) -> None:
        """Record a drain that failed and was rolled back."""
        self.failures += 1

    def idle_seconds(self, now: datetime) -> float:
        """Seconds since the last successful drain, or since the start before the first."""
        return max(0.0, (now - (self.last_drain_at or self.started_at)).total_seconds())


def assess(
    progress: Progress, pending: int | None, now: datetime, stall_seconds: float
) -> str | None:
    """Why ingestion is degraded, or None while it keeps up.

    Args:
        progress: the worker's progress.
        pending: events waiting in the broker; None when the broker cannot be asked.
        now: the time of the check.
        stall_seconds: INGEST_STALL_SECONDS.

    Returns:
        The reason, for the health response; None when nothing waits or a drain succeeded
        within ``stall_seconds``.
    """
    idle = progress.idle_seconds(now)
    if idle <= stall_seconds:
        return None
    if pending is None:
        return f"the event broker cannot be asked and nothing was drained for {idle:.0f} s"
    if pending > 0:
        return f"{pending} events pending and none consumed for {idle:.0f} s"
    return None


def figures(progress: Progress, pending: int | None, now: datetime) -> dict[str, Any]:
    """The ingestion figures of the health response, JSON-ready."""
    return {
        "pending": pending,
        "stored": progress.stored,
        "dead_lettered": progress.dead_lettered,
        "last_drain_at": progress.last_drain_at.isoformat() if progress.last_drain_at else None,
        "seconds_since_drain": round(progress.idle_seconds(now), 3),
        "failures": progress.failures,
    }
