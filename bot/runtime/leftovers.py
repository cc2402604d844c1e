"""What an earlier run left behind, found and ended when the next run starts.

The supervisor records itself in ``RUN_DIR/supervisor.pid`` (JSON: its pid, its start time
from ``/proc`` so that a recycled pid is not mistaken for it, and a run id) and puts the run id
into the environment variable :data:`RUN_ID_ENV`, which every child and grandchild inherits.
At the next start with the same run directory: if the recorded supervisor still runs, a second
one is refused; otherwise every process still carrying the old run id is killed. That covers
what the guardian and the parent-death signal (:mod:`bot.runtime.guardian`) cannot: both the supervisor
and the guardian killed at once, whose servers' grandchildren would hold the ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

RUN_ID_ENV = "ASSISTANT_RUN_ID"
RECORD_NAME = "supervisor.pid"


class AlreadyRunning(RuntimeError):
    """A supervisor is running with this run directory."""


@dataclass(frozen=True)
class RunRecord:
    pid: int
    started: int  # field 22 of /proc/<pid>/stat: clock ticks after boot
    run_id: str

    @classmethod
    def for_this_process(cls) -> RunRecord:
        return cls(os.getpid(), start_time(os.getpid()) or 0, uuid.uuid4().hex)

    def alive(self) -> bool:
        return self.started != 0 and start_time(self.pid) == self.started


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on


def start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def processes_of_run(run_id: str) -> list[int]:
    """The live processes of ours whose environment carries ``run_id``."""
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        fields = _stat_fields(int(entry.name))
        if marker in environ.split(b"\0") and fields and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def read_record(run_dir: Path) -> RunRecord | None:
    try:
        return RunRecord(**json.loads((run_dir / RECORD_NAME).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def claim(run_dir: Path) -> tuple[RunRecord, list[int]]:
    """Record this process as the run directory's supervisor, after killing what a dead
    earlier supervisor left; (the new record, the pids killed).

    Raises:
        AlreadyRunning: the recorded supervisor still runs.
    """
    killed: list[int] = []
    previous = read_record(run_dir)
    if previous is not None and previous.pid != os.getpid():
        if previous.alive():
            raise AlreadyRunning(
                f"a supervisor (pid {previous.pid}) is running with RUN_DIR={run_dir}"
            )
        killed = processes_of_run(previous.run_id)
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0  # until their ports are free
        while killed and processes_of_run(previous.run_id) and time.monotonic() < deadline:
            time.sleep(0.05)
    record = RunRecord.for_this_process()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RECORD_NAME).write_text(json.dumps(asdict(record)), encoding="utf-8")
    return record, killed


def release(run_dir: Path, record: RunRecord) -> None:
    """Remove the record at a normal end (if it is still this run's)."""
    if read_record(run_dir) == record:
        with contextlib.suppress(FileNotFoundError):
            (run_dir / RECORD_NAME).unlink()
