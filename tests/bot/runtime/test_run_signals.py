"""SIGTERM and SIGHUP stop ``python -m bot run`` whatever its main thread is doing."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from bot.runtime.run import interrupt


def test_a_stop_signal_landing_while_the_watch_holds_its_events_lock_stops_the_run():
    # The watch waits on an Event between its ticks; Event.wait holds the event's lock for a
    # moment around each wait, and a signal handler runs in the main thread right there. The
    # handler used to set that event: it waited for the lock its own thread held, forever
    # (seen: a SIGTERM left a whole run up). It must only raise.
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, interrupt)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), stop._cond:  # as inside Event.wait
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs here, in this thread
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 4
    assert not stop.is_set()
