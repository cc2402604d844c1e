"""Keep the servers of ``python -m bot run`` alive: notice a crash or a hang, restart, say why.

A server has crashed when its main process exits. It is hung when it answers no HTTP at all to
``PROBE_FAILURES`` liveness probes in a row, each given ``PROBE_TIMEOUT`` seconds, sent every
``PROBE_INTERVAL`` seconds: rasa-sdk's main process keeps the port open after its worker died,
and a process stopped or stuck in a loop keeps it too, so "the process exists" proves nothing.
Any HTTP status counts as alive: the web service answers 503 when it is degraded, which is
not a reason to kill it. Either way the server's whole process group is killed (workers
included) and started again, at once the first time, then after exponentially longer pauses;
after ``RESTART_LIMIT`` restarts within ``RESTART_WINDOW`` seconds the supervisor gives up.
While a server starts again, only its exit and ``STARTUP_TIMEOUT`` count (Rasa answers nothing
while it loads its model); it is back when its readiness URL answers 200. Every event goes to
the supervisor's output and to ``RUN_DIR/supervisor.log``.

A server may have a standby (Rasa's, see :mod:`connectors.standby`): a second process of the
same server, started once the watch begins, that loads and then waits to take over the port.
When the server crashes or hangs, its group is killed and the standby takes its place at once
(no pause: it is the restart), and a new standby is started. A standby that exits is started
again under a restart policy of its own; when that gives up, the server goes on without one.

Probes run in threads; processes are started and killed only from the thread calling
:meth:`Supervisor.watch` (the main thread: the children's parent-death signal is tied to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bot.runtime.guardian import Guardian
from bot.runtime.processes import ManagedProcess, ProcessFailed, describe_exit
from bot.settings import SupervisionSettings

TICK_SECONDS = 0.1
BACKOFF_BASE = 1.0  # seconds before the second restart within the window; then doubled
BACKOFF_CAP = 30.0


class GaveUp(ProcessFailed):
    """A server crashed more often than ``RESTART_LIMIT`` within ``RESTART_WINDOW``."""


def probe(url: str, timeout: float, need_ok: bool = False) -> str | None:
    """None when ``url`` answers (any HTTP status; only 200 with ``need_ok``), else what failed.

    >>> probe("http://127.0.0.1:9/", 1.0)  # doctest: +ELLIPSIS
    'no HTTP answer: ...'
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return f"no answer within {timeout:g} s"
        return f"no HTTP answer: {reason}"
    if need_ok and status != 200:
        return f"HTTP {status}"
    return None


@dataclass
class RestartPolicy:
    """How often a server may be restarted, and how long to wait before each restart."""

    limit: int
    window: float
    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    restarts: list[float] = field(default_factory=list)

    def next_delay(self, now: float) -> float:
        """Record a restart at ``now``; the pause before it (0, base, 2 base, 4 base ...).

        Raises:
            GaveUp: ``limit`` restarts happened within ``window`` already.
        """
        self.restarts = [t for t in self.restarts if now - t < self.window]
        recent = len(self.restarts)
        if recent >= self.limit:
            raise GaveUp(f"restarted {recent} times within {self.window:g} s; giving up")
        self.restarts.append(now)
        return 0.0 if recent == 0 else min(self.cap, self.base * 2 ** (recent - 1))

    @property
    def count(self) -> int:
        return len(self.restarts)


class RunLog:
    """What happened to the servers: one timestamped line per event, printed and kept in
    ``RUN_DIR/supervisor.log``."""

    def __init__(self, path: Path, echo: Callable[[str], None] = print) -> None:
        self.path = path
        self.echo = echo

    def record(self, server: str, message: str) -> str:
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        line = f"{stamp} {server}: {message}"
        with contextlib.suppress(OSError):
            self.echo(line)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
        return line


class Phase(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    WAITING = "waiting"  # killed, pausing before the restart


@dataclass(frozen=True)
class ProbeSettings:
    interval: float
    timeout: float
    failures: int
    startup_timeout: float

    @classmethod
    def of(cls, supervision: SupervisionSettings) -> ProbeSettings:
        return cls(
            supervision.probe_interval,
            supervision.probe_timeout,
            supervision.probe_failures,
            supervision.startup_timeout,
        )


class Watch:
    """One server under supervision: its phase, its probes and its restarts.

    :meth:`tick` does the next step, never blocking longer than a kill and a start; ``now`` is
    a monotonic time, passed in so that tests can drive a watch without waiting.
    """

    def __init__(
        self,
        process: ManagedProcess,
        probes: ProbeSettings,
        policy: RestartPolicy,
        log: RunLog,
        executor: Executor,
        guardian: Guardian | None,
        now: float,
        check: Callable[[str, float, bool], str | None] = probe,
        standby: ManagedProcess | None = None,
    ) -> None:
        self.name = process.name
        self.process = process
        self.probes = probes
        self.policy = policy
        self.log = log
        self.executor = executor
        self.guardian = guardian
        self.check = check
        self.phase = Phase.RUNNING
        self.since = now  # when the current phase began (WAITING: when it ends)
        self.down_since: float | None = None
        self.failures = 0
        self.pending: Future[str | None] | None = None
        self.next_probe = now + probes.interval
        self.standby = standby
        self.standby_policy = RestartPolicy(policy.limit, policy.window, policy.base, policy.cap)
        self.standby_due: float | None = now if standby is not None else None

    def tick(self, now: float) -> None:
        """Restart when due; notice an exit; send a probe when due; read its answer."""
        self._tend_standby(now)
        if self.phase is Phase.WAITING:
            if now >= self.since:
                self._start(now)
            return
        if not self.process.running():
            self._crashed(now, describe_exit(self.process.returncode))
            return
        if self.pending is None and now >= self.next_probe:
            spec = self.process.spec
            starting = self.phase is Phase.STARTING
            url = spec.ready_url if starting else spec.live_url or spec.ready_url
            self.pending = self.executor.submit(self.check, url, self.probes.timeout, starting)
            self.next_probe = now + self.probes.interval
        if self.pending is not None and self.pending.done():
            failure, self.pending = self.pending.result(), None
            self._answered(now, failure)
        elif self.phase is Phase.STARTING and now - self.since > self.probes.startup_timeout:
            self._crashed(now, f"not ready after {self.probes.startup_timeout:g} s")

    def _answered(self, now: float, failure: str | None) -> None:
        if self.phase is Phase.STARTING:
            if failure is None:
                self.phase, self.since = Phase.RUNNING, now
                down = now - (self.down_since or now)
                self.log.record(self.name, f"back after {down:.1f} s (restart {self.policy.count})")
                self.down_since = None
            elif now - self.since > self.probes.startup_timeout:
                self._crashed(now, f"not ready after {self.probes.startup_timeout:g} s")
            return
        if failure is None:
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= self.probes.failures:
            self._crashed(now, f"hung: {self.failures} liveness probes in a row failed ({failure})")

    def _crashed(self, now: float, reason: str) -> None:
        self._kill(self.process)  # the whole process group: workers hold the port too
        self.pending, self.failures = None, 0
        tail = self.process.log_tail(1).strip()
        told = f"; its log ends: {tail[-300:]}" if tail else ""
        try:
            delay = self.policy.next_delay(now)
        except GaveUp as gave_up:
            self.log.record(self.name, f"{reason}; {gave_up}{told}")
            raise GaveUp(f"{self.name}: {reason}; {gave_up}:\n{self.process.log_tail()}") from None
        if self.down_since is None:
            self.down_since = now
        if self.standby is not None and self.standby.running():
            self.process, self.standby = self.standby, self.process
            self.log.record(
                self.name,
                f"{reason}; its standby (pid {self.process.pid}, log "
                f"{self.process.spec.log_path.name}) takes over: restart {self.policy.count} (at "
                f"most {self.policy.limit} within {self.policy.window:g} s){told}",
            )
            self.phase, self.since, self.next_probe = Phase.STARTING, now, now
            self.standby_due = now
            return
        self.log.record(
            self.name,
            f"{reason}; restart {self.policy.count} (at most {self.policy.limit} within "
            f"{self.policy.window:g} s) in {delay:g} s{told}",
        )
        self.phase, self.since = Phase.WAITING, now + delay

    def _start(self, now: float) -> None:
        self._launch(self.process)
        self.phase, self.since, self.next_probe = Phase.STARTING, now, now

    def _tend_standby(self, now: float) -> None:
        """Start the standby when due; notice its exit, and start it again after a pause."""
        standby = self.standby
        if standby is None:
            return
        if self.standby_due is not None:
            if now >= self.standby_due:
                self._launch(standby)
                self.standby_due = None
                self.log.record(
                    self.name,
                    f"standby started (pid {standby.pid}, log {standby.spec.log_path.name})",
                )
            return
        if standby.running():
            return
        reason = describe_exit(standby.returncode)
        self._kill(standby)
        try:
            delay = self.standby_policy.next_delay(now)
        except GaveUp as gave_up:
            self.log.record(self.name, f"standby {reason}; {gave_up}: going on without one")
            self.standby = None
            return
        self.log.record(self.name, f"standby {reason}; started again in {delay:g} s")
        self.standby_due = now + delay

    def _launch(self, process: ManagedProcess) -> None:
        process.start()
        if self.guardian is not None and process.pid is not None:
            self.guardian.watch(process.pid)

    def _kill(self, process: ManagedProcess) -> None:
        group = process.pid
        process.kill()
        if self.guardian is not None and group is not None:
            self.guardian.forget(group)

    def processes(self) -> list[ManagedProcess]:
        """The server's processes, the serving one first."""
        return [self.process, *([self.standby] if self.standby is not None else [])]


class Supervisor:
    """Start the servers in order, keep them alive, stop them in reverse order."""

    def __init__(
        self,
        processes: list[ManagedProcess],
        supervision: SupervisionSettings,
        log: RunLog,
        guardian: Guardian | None = None,
        say: Callable[[str], None] = print,
        standbys: dict[str, ManagedProcess] | None = None,
    ) -> None:
        self.processes = processes
        self.standbys = standbys or {}
        self.supervision = supervision
        self.log = log
        self.guardian = guardian
        self.say = say
        self.watches: list[Watch] = []
        self.executor = ThreadPoolExecutor(max(1, len(processes)), thread_name_prefix="probe")

    def start(self, clock: Callable[[], float], together: bool = False) -> None:
        """Start each server and wait until it is ready (a failure here is not retried);
        ``together``: start them all, then wait for each (replicas of a cluster).

        Raises:
            ProcessFailed: a server exited or was not ready within ``STARTUP_TIMEOUT``.
        """
        if self.guardian is not None:
            self.guardian.start()
        waves = [self.processes] if together else [[p] for p in self.processes]
        for wave in waves:
            for process in wave:
                self.say(f"starting {process.name} (log: {process.spec.log_path}) ...")
                process.start()
                if self.guardian is not None and process.pid is not None:
                    self.guardian.watch(process.pid)
            for process in wave:
                process.wait_ready(self.supervision.startup_timeout)
                self.log.record(process.name, f"started (pid {process.pid})")
        now = clock()
        self.watches = [
            Watch(
                process,
                ProbeSettings.of(self.supervision),
                RestartPolicy(self.supervision.restart_limit, self.supervision.restart_window),
                self.log,
                self.executor,
                self.guardian,
                now,
                standby=self.standbys.get(process.name),
            )
            for process in self.processes
        ]

    def watch(self, stop: threading.Event, clock: Callable[[], float]) -> None:
        """Until ``stop`` is set: tick every watch.

        Raises:
            GaveUp: a server crashed too often.
        """
        while not stop.is_set():
            for watch in self.watches:
                watch.tick(clock())
            if self.guardian is not None:
                self.guardian.ensure()
            stop.wait(TICK_SECONDS)

    def stop(self) -> None:
        """Stop every server started, last first (a standby before its server, which would
        hand it the port); then the guardian."""
        running = (
            [p for watch in self.watches for p in watch.processes()]
            if self.watches
            else self.processes
        )
        for process in reversed(running):
            if process.process is None:
                continue
            self.say(f"stopping {process.name} ...")
            group = process.pid
            code = process.stop()
            if self.guardian is not None and group is not None:
                self.guardian.forget(group)
            with contextlib.suppress(OSError):
                self.log.record(process.name, f"stopped ({describe_exit(code)})")
        if self.guardian is not None:
            self.guardian.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
