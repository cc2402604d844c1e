"""The serving lock a Rasa server holds while it serves and its standby waits on: freed by the
kernel however the holder ends, kill -9 included; never held by two processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from connectors.standby import ServingLock, serving_pid

REPO = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from connectors.standby import ServingLock
ServingLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def holder(path: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_standby_takes_the_lock_the_moment_a_killed_holder_ends(tmp_path):
    path = tmp_path / "rasa-serving.lock"
    serving = holder(path)
    try:
        assert serving_pid(path) == serving.pid
        standby = ServingLock(path)
        assert not standby.try_acquire()
        took = threading.Event()
        waiting = threading.Thread(target=lambda: (standby.acquire(), took.set()), daemon=True)
        waiting.start()
        assert not took.wait(0.5)  # waits while the server lives
        os.kill(serving.pid, signal.SIGKILL)
        assert took.wait(10)
        assert serving_pid(path) == os.getpid()
        standby.release()
    finally:
        serving.kill()
        serving.wait()


def test_no_lock_held_means_no_serving_pid(tmp_path):
    path = tmp_path / "rasa-serving.lock"
    assert serving_pid(path) is None
    path.write_text("12345\n")  # left by a server that ended: its pid is no holder's
    assert serving_pid(path) is None
