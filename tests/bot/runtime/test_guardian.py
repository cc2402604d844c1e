"""Servers do not outlive the supervisor: the guardian, and the leftovers found at the next start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot.runtime.guardian import Guardian, read_groups
from bot.runtime.leftovers import RECORD_NAME, RUN_ID_ENV, AlreadyRunning, RunRecord, claim, release

REPO = Path(__file__).resolve().parents[3]
# A process group whose leader's child ignores SIGTERM: what must end needs SIGKILL too.
STUBBORN = ["sh", "-c", "trap '' TERM; sleep 60 & wait"]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def members(group: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@pytest.fixture()
def stubborn_group():
    process = subprocess.Popen(STUBBORN, start_new_session=True)
    time.sleep(0.3)
    group = process.pid
    pids = members(group)
    yield group, pids
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def test_the_protocol_keeps_what_was_not_forgotten():
    assert read_groups([b"+12\n", b"+13\n", b"-12\n", b"junk\n", b"+1\n", b"+14"]) == {13, 14}


def test_the_guardian_ends_recorded_groups_when_the_pipe_closes(stubborn_group):
    group, pids = stubborn_group
    assert len(pids) == 2
    guardian = Guardian(grace=0.5)
    guardian.start()
    guardian.watch(group)
    time.sleep(0.2)
    guardian.process.stdin.close()  # as when the supervisor dies: no "forget" came
    assert wait_gone(pids, 5) == []
    assert guardian.process.wait(5) == 0


def test_the_guardian_leaves_forgotten_groups_alone(stubborn_group):
    group, pids = stubborn_group
    guardian = Guardian(grace=0.5)
    guardian.start()
    guardian.watch(group)
    guardian.forget(group)
    guardian.close()
    assert guardian.process.returncode == 0
    assert all(alive(p) for p in pids)


def test_a_dead_guardian_is_started_again_with_every_group(stubborn_group):
    group, pids = stubborn_group
    guardian = Guardian(grace=0.5)
    guardian.start()
    guardian.watch(group)
    first = guardian.process
    first.kill()
    first.wait()
    guardian.ensure()
    assert guardian.process is not first and guardian.alive()
    guardian.process.stdin.close()
    assert wait_gone(pids, 5) == []


SUPERVISOR_LIKE = """
import subprocess, sys, time
from pathlib import Path
from bot.runtime.guardian import Guardian
from bot.runtime.processes import ManagedProcess, ServiceSpec
guardian = Guardian(grace=0.5)
guardian.start()
server = ManagedProcess(ServiceSpec("stubborn", sys.argv[2:], "", Path(sys.argv[1])))
server.start()
guardian.watch(server.pid)
print(server.pid, guardian.process.pid, flush=True)
time.sleep(60)
"""


def test_kill_9_of_a_supervisor_leaves_nothing(tmp_path):
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR_LIKE, str(tmp_path / "s.log"), *STUBBORN],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    group, guardian = map(int, supervisor.stdout.readline().split())
    time.sleep(0.3)
    pids = members(group)
    try:
        assert len(pids) == 2
        supervisor.kill()
        supervisor.wait()
        assert wait_gone([*pids, guardian], 5) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


# --- leftovers: what both the supervisor and the guardian, killed together, left ------------


def test_leftovers_of_a_dead_run_are_killed_at_the_next_start(tmp_path):
    old_run = uuid.uuid4().hex
    leftover = subprocess.Popen(
        ["sleep", "60"], env={**os.environ, RUN_ID_ENV: old_run}, start_new_session=True
    )
    unrelated = subprocess.Popen(["sleep", "60"], start_new_session=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = {"pid": dead.pid, "started": 12345, "run_id": old_run}
    (tmp_path / RECORD_NAME).write_text(json.dumps(record))
    try:
        mine, ended = claim(tmp_path)
        assert ended == [leftover.pid]
        assert leftover.wait(5) == -signal.SIGKILL
        assert unrelated.poll() is None
        assert mine.pid == os.getpid() and mine.run_id != old_run
        release(tmp_path, mine)
        assert not (tmp_path / RECORD_NAME).exists()
    finally:
        for process in (leftover, unrelated):
            process.kill()
            process.wait()


def test_a_second_supervisor_on_a_running_ones_directory_is_refused(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        record = RunRecord(sleeper.pid, _start_time(sleeper.pid), "x")
        (tmp_path / RECORD_NAME).write_text(json.dumps(record.__dict__))
        with pytest.raises(AlreadyRunning, match=str(sleeper.pid)):
            claim(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_recycled_pid_is_not_taken_for_the_supervisor(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])  # has the recorded pid, started later
    try:
        record = RunRecord(sleeper.pid, _start_time(sleeper.pid) - 1, "x")
        (tmp_path / RECORD_NAME).write_text(json.dumps(record.__dict__))
        mine, ended = claim(tmp_path)
        assert ended == [] and sleeper.poll() is None and mine.pid == os.getpid()
    finally:
        sleeper.kill()
        sleeper.wait()


def _start_time(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
