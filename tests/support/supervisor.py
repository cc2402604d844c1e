"""``python -m bot run`` (what ``make run`` starts) as a real process, for tests that crash it.

Every process of a run carries the environment variable ``TEST_RUN_MARK`` with a value unique to
the run (children inherit the supervisor's environment), so that a test finds all of them,
grandchildren included, by reading ``/proc/<pid>/environ``: the same way whatever the supervisor
does about its children.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from bot.runtime.chat import send
from bot.runtime.run import serving_lock
from connectors.standby import STANDING_BY, serving_pid

REPO = Path(__file__).resolve().parents[2]
READY = "Press Ctrl-C to stop."
QUESTION = "How do I reset my password?"


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def environ(pid: int) -> dict[str, str]:
    """The environment of a process of ours ({} once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def process_state(pid: int) -> str:
    """One letter of ``/proc/<pid>/stat`` (R, S, Z ...), or "" when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Supervisor:
    """One ``python -m bot run`` on the given ports, its output in ``work/supervisor.out``."""

    def __init__(self, work: Path, model: Path, ports: tuple[int, int, int], **env: str) -> None:
        self.work = work
        self.model = model
        self.rasa_port, self.action_port, self.web_port = ports
        self.run_dir = work / "run"
        self.database = work / "app.db"
        self.mark = uuid.uuid4().hex
        index = work / "faq_index"
        if not index.exists():
            built = Path(os.environ.get("TEST_FAQ_INDEX_DIR", REPO / "var" / "faq_index"))
            shutil.copytree(built, index, symlinks=True)
        self.secrets = {
            "RASA_API_TOKEN": f"api-{uuid.uuid4().hex}",
            "REST_CHANNEL_TOKEN": f"rest-{uuid.uuid4().hex}",
            "ACTION_SERVER_TOKEN": f"act-{uuid.uuid4().hex}",
            "IDENTITY_SECRET": f"ident-{uuid.uuid4().hex}",
        }
        self.env = {
            **os.environ,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "WEB_PORT": str(self.web_port),
            "DATABASE_URL": f"sqlite:///{self.database}",
            "RUN_DIR": str(self.run_dir),
            "FAQ_INDEX_DIR": str(index),
            "BUSINESS_HOURS": "00:00-24:00",
            "TEST_RUN_MARK": self.mark,
            **self.secrets,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.out = work / "supervisor.out"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def ports(self) -> tuple[int, int, int]:
        return self.rasa_port, self.action_port, self.web_port

    def start(self, timeout: float = 300.0) -> None:
        offset = self.out.stat().st_size if self.out.exists() else 0
        with open(self.out, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--model", str(self.model)],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while READY not in self.output(offset):
            if self.process.poll() is not None:
                raise AssertionError(f"supervisor exited:\n{self.output(offset)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready in {timeout:.0f} s:\n{self.output(offset)}")
            time.sleep(0.5)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self, offset: int = 0) -> str:
        try:
            return self.out.read_bytes()[offset:].decode(errors="replace")
        except FileNotFoundError:
            return ""

    def send(self, message: str, sender: str, timeout: float = 60.0) -> list[dict]:
        token = self.secrets["REST_CHANNEL_TOKEN"]
        return send(self.rasa_url, sender, message, timeout=timeout, token=token)

    # --- the processes of this run -----------------------------------------------------------

    def processes(self) -> list[int]:
        """Every live (not zombie) process carrying this run's mark."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            if environ(pid).get("TEST_RUN_MARK") == self.mark and process_state(pid) not in (
                "Z",
                "",
            ):
                found.append(pid)
        return found

    def group(self, group: int) -> list[int]:
        """The live processes of this run in process group ``group``."""
        return [pid for pid in self.processes() if _group(pid) == group]

    def server_pid(self, name: str) -> int:
        """The main process of a server: a child of the supervisor, told apart by its command;
        with a standby, the serving one (not its standby) is the one that holds the serving lock."""
        lock = serving_lock(self.run_dir, name)
        if lock.exists():
            wait_for(lambda: serving_pid(lock) is not None, 300.0)
            pid = serving_pid(lock)
            assert pid is not None
            return pid
        patterns = {
            "rasa": ("rasa run", "connectors.launch"),
            "actions": ("rasa_sdk", "bot.runtime.action_server"),
            "web": ("-m bot web",),
        }[name]
        assert self.process is not None
        for pid in self.processes():
            line = command_line(pid)
            if _parent(pid) == self.process.pid and any(p in line for p in patterns):
                return pid
        raise AssertionError(f"no {name} server among {self.processes()}")

    def standing_by(self, name: str) -> int:
        """How many processes of server ``name`` have stood by so far in this run (loaded,
        waiting for the serving lock), as their logs say (a standby and its server swap logs
        at a takeover)."""
        return sum(
            log.read_text(errors="replace").count(STANDING_BY)
            for log in self.run_dir.glob(f"{name}*.log")
        )

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def describe(self, pids: list[int]) -> str:
        return "\n".join(f"{pid} ({process_state(pid)}): {command_line(pid)[:160]}" for pid in pids)

    def kill_leftovers(self) -> list[int]:
        """SIGKILL whatever of this run is still alive (a test's cleanup); their pids."""
        left = self.processes()
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return left


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _group(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[2])


def wait_for(condition, timeout: float, interval: float = 0.2) -> float:
    """Seconds until ``condition()`` is true; AssertionError after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true after {timeout:.0f} s: {condition}")
        time.sleep(interval)
    return time.monotonic() - started


def http_status(url: str, timeout: float = 2.0, headers: dict | None = None, data=None) -> int:
    """The HTTP status of a request, 0 when nothing answered."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0
