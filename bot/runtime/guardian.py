"""Servers must not outlive the supervisor, however it ends (``kill -9`` included).

Two mechanisms, because each alone has a gap:

- :func:`parent_death_signal`, run in each child between fork and exec, asks the kernel to send
  the child SIGTERM when the supervisor dies. It reaches only direct children, not what they
  start (a grandchild may hold a port too), and not a child blocked in its own way.
- The guardian, ``python -m bot.runtime.guardian``: a small process in its own session (a Ctrl-C in the
  terminal does not reach it), holding the read end of a pipe from the supervisor. The
  supervisor writes ``+PGID`` when it has started a server in process group PGID and ``-PGID``
  when it has stopped it. When the pipe closes without the groups having been forgotten (the
  supervisor is gone), the guardian sends SIGTERM to every recorded group, grandchildren
  included, SIGKILL after :data:`GRACE_SECONDS`, and exits.

What both miss (the supervisor and the guardian killed together) is cleaned at the next start
(:mod:`bot.runtime.leftovers`).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 5.0


def _prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the guardian alone has to do
        return None


def parent_death_signal(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` that has the kernel send ``signum`` to the child when we die (Linux).

    libc is looked up here, in the parent: between fork and exec the child of a process with
    threads (the supervisor's probes) must not load anything. The kernel ties the signal to the
    parent *thread*, so children must be started from a thread that lives as long as they
    should (the supervisor's main thread). A child whose parent died before the call took
    effect exits at once.
    """
    prctl = _prctl()
    parent = os.getpid()

    def hook() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return hook


class Guardian:
    """The supervisor's side of the guardian: start it, tell it which groups to look after."""

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        self.groups: set[int] = set()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.runtime.guardian", "--grace", str(self.grace)],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        for group in self.groups:
            self._send(f"+{group}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure(self) -> None:
        """Start the guardian again, with every group, should it have died."""
        if not self.alive():
            self.start()

    def watch(self, group: int) -> None:
        self.groups.add(group)
        self._send(f"+{group}")

    def forget(self, group: int) -> None:
        self.groups.discard(group)
        self._send(f"-{group}")

    def close(self, timeout: float = 10.0) -> None:
        """The normal end: every group forgotten, the pipe closed, the guardian exits."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _send(self, line: str) -> None:
        process = self.process
        if process is None or process.poll() is not None or process.stdin is None:
            self.start()  # replays self.groups, this one included
            return
        try:
            process.stdin.write(f"{line}\n".encode())
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            process.wait()
            self.start()


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_groups(groups: set[int], grace: float) -> None:
    """SIGTERM every group, then SIGKILL those still there after ``grace`` seconds."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(group_alive(g) for g in groups):
        time.sleep(0.05)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def read_groups(lines: Iterable[bytes]) -> set[int]:
    """Apply ``+PGID`` / ``-PGID`` lines until the pipe closes; the groups left recorded."""
    groups: set[int] = set()
    for raw in lines:
        line = raw.strip()
        if line[:1] in (b"+", b"-") and line[1:].isdigit():
            group = int(line[1:])
            if group > 1:
                (groups.add if line[:1] == b"+" else groups.discard)(group)
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.runtime.guardian")
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS)
    args = parser.parse_args(argv)
    # The terminal's Ctrl-C and a stop of the supervisor's group must not end the guardian
    # before the supervisor: it ends when the pipe does.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    groups = read_groups(sys.stdin.buffer)
    if groups:
        with contextlib.suppress(OSError):  # the supervisor's terminal or pipe may be gone too
            print(
                f"guardian: the supervisor is gone; stopping process groups {sorted(groups)}",
                file=sys.stderr,
                flush=True,
            )
        end_groups(groups, args.grace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
