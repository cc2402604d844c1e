"""A server that stands by, loaded, and takes over the port the moment the serving one ends.

A Rasa server takes 40-80 s to start (imports, and its model's graphs built at load), an action
server 7-10 s (the FAQ model), and customers wait meanwhile. ``python -m bot run`` therefore
keeps a second process of each beside the one that serves (``RASA_STANDBY``,
``ACTIONS_STANDBY``, on by default). Such a server, when ``SERVING_LOCK`` names a file, loads
everything (Rasa also answers one parse, so that its first customer does not wait for the
tokenizer's dictionary and the graphs either), and then takes an exclusive lock on that file
before it opens its port. The serving one holds the lock for its whole life; the kernel
releases it when that process ends, however it ends (``kill -9`` included), and the standby,
waiting on it, opens the port and serves within a second. The supervisor meanwhile starts the
next standby. Only one process of a server ever holds its port.

The lock file holds the serving server's pid, for people and tests (:func:`serving_pid`). This
module is the standard library's only (the supervisor and the action server import it too);
both Rasa's start (:func:`connectors.launch.serve_only_with_the_lock`) and the action server's
wait with :func:`wait_to_serve`.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "rasa-serving.lock"
>>> lock = ServingLock(path)
>>> lock.try_acquire(), serving_pid(path) == os.getpid()
(True, True)
>>> lock.release(); serving_pid(path) is None
True
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

LOCK_ENV = "SERVING_LOCK"
# What the server is asked before it serves: Chinese and English, so that both tokenizers'
# first-use work is done.
WARM_UP_TEXT = "你好, where is my order?"
# What a standby's log says once it is loaded and waits for the lock.
STANDING_BY = "standing by: loaded"


class ServingLock:
    """The right to serve: an exclusive ``flock`` on one file, held until the process ends."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when taken."""
        return self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)

    def acquire(self) -> None:
        """Wait until the lock is free, then take it (blocks: call it in a thread)."""
        self._take(fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the last descriptor releases the lock
            self._fd = None

    def _take(self, operation: int) -> bool:
        # Opened without O_CLOEXEC cleared (Python's default): no child inherits the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True


def serving_pid(path: Path | str) -> int | None:
    """The pid of the Rasa server that holds the lock at ``path``; None when none does."""
    probe = ServingLock(path)
    if probe.try_acquire():  # nobody holds it
        probe.release()
        return None
    try:
        return int(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None  # the holder is writing it right now


def wait_to_serve(path: Path | str, server: str, log: logging.Logger) -> ServingLock:
    """Take the serving lock at ``path``, waiting (blocking: call it in a thread from async
    code) while another process of ``server`` holds it; keep what it returns while serving."""
    lock = ServingLock(path)
    if not lock.try_acquire():
        log.info("%s; another %s serves; taking over when it ends", STANDING_BY, server)
        lock.acquire()
        log.info("taking over: the serving %s ended", server)
    return lock
