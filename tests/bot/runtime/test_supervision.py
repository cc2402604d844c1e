"""The supervisor's decisions: when a server is crashed or hung, when to restart it, when to give
up, what it records. Driven with a fake process and a clock passed in; the probe for real."""

from __future__ import annotations

import http.server
import socket
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from bot.runtime.processes import ServiceSpec
from bot.runtime.supervision import (
    GaveUp,
    Phase,
    ProbeSettings,
    RestartPolicy,
    RunLog,
    Watch,
    probe,
)

PROBES = ProbeSettings(interval=1.0, timeout=1.0, failures=3, startup_timeout=60.0)


class FakeProcess:
    """What a Watch uses of ManagedProcess: a process that can exit, be killed, be started."""

    def __init__(
        self, tmp_path: Path, name: str = "actions", started: bool = True, first_pid: int = 100
    ) -> None:
        self.spec = ServiceSpec(
            name, [], "http://ready/", tmp_path / f"{name}.log", live_url="http://live/"
        )
        self.spec.log_path.write_text("loading\nlast words of the server\n")
        self.name = name
        self.first_pid = first_pid
        self.pid: int | None = first_pid if started else None
        self.returncode: int | None = None if started else 0
        self.starts = 0
        self.kills = 0

    def running(self) -> bool:
        return self.pid is not None and self.returncode is None

    def kill(self) -> None:
        self.kills += 1
        if self.returncode is None:
            self.returncode = -9

    def start(self) -> None:
        self.starts += 1
        self.pid = self.first_pid + self.starts
        self.returncode = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.spec.log_path.read_text().splitlines()[-lines:])


class Answers:
    """The probe's answers, in order (None: answered), run at once (a synchronous executor)."""

    def __init__(self) -> None:
        self.script: list[str | None] = []
        self.asked: list[tuple[str, bool]] = []

    def check(self, url: str, _timeout: float, need_ok: bool) -> str | None:
        self.asked.append((url, need_ok))
        return self.script.pop(0) if self.script else None

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


class FakeGuardian:
    def __init__(self) -> None:
        self.groups: set[int] = set()

    def watch(self, group: int) -> None:
        self.groups.add(group)

    def forget(self, group: int) -> None:
        self.groups.discard(group)


@pytest.fixture()
def parts(tmp_path):
    process, answers, guardian = FakeProcess(tmp_path), Answers(), FakeGuardian()
    guardian.watch(process.pid)
    lines: list[str] = []
    log = RunLog(tmp_path / "run" / "supervisor.log", echo=lines.append)
    watch = Watch(
        process, PROBES, RestartPolicy(3, 300.0), log, answers, guardian, 0.0, answers.check
    )
    return watch, process, answers, guardian, lines


def test_an_exit_is_noticed_at_once_and_the_server_restarted(parts, tmp_path):
    watch, process, answers, guardian, lines = parts
    process.returncode = -9  # kill -9 from outside
    watch.tick(0.1)
    assert process.kills == 1  # the rest of its group goes too
    news = lines[-1].split(" ", 1)[1]
    assert news.startswith("actions: killed by SIGKILL; restart 1 (at most 3 within 300 s) in 0 s")
    assert "its log ends: last words of the server" in lines[-1]
    assert watch.phase is Phase.WAITING and 100 not in guardian.groups
    watch.tick(0.2)
    assert process.starts == 1 and watch.phase is Phase.STARTING
    assert guardian.groups == {101}
    watch.tick(0.3)  # ready: the readiness URL, and 200 needed
    assert answers.asked[-1] == ("http://ready/", True)
    assert watch.phase is Phase.RUNNING
    assert lines[-1].endswith("actions: back after 0.2 s (restart 1)")
    assert (tmp_path / "run" / "supervisor.log").read_text().splitlines()[-2:] == lines[-2:]


def test_failed_probes_in_a_row_mean_hung_and_the_group_is_killed(parts):
    watch, process, answers, _guardian, lines = parts
    answers.script = ["no answer within 1 s"] * 3
    for now in (1.0, 2.0):
        watch.tick(now)
    assert process.kills == 0 and watch.failures == 2
    watch.tick(3.0)
    assert answers.asked == [("http://live/", False)] * 3  # liveness: any HTTP answer
    assert process.kills == 1
    assert "actions: hung: 3 liveness probes in a row failed (no answer within 1 s)" in lines[-1]


def test_an_answer_between_failures_starts_the_count_again(parts):
    watch, process, answers, _guardian, _lines = parts
    answers.script = ["no answer", "no answer", None, "no answer", "no answer"]
    for now in range(1, 6):
        watch.tick(float(now))
    assert process.kills == 0 and watch.failures == 2


def test_probes_wait_for_the_interval_and_one_at_a_time(parts):
    watch, _process, answers, _guardian, _lines = parts
    for now in (0.1, 0.5, 0.9, 1.0, 1.5, 1.99, 2.0):
        watch.tick(now)
    assert len(answers.asked) == 2


def test_restarts_back_off_and_end_in_giving_up(parts):
    watch, process, _answers, _guardian, lines = parts
    now, delays = 0.0, []
    for _ in range(3):
        process.returncode = 1
        watch.tick(now)
        delays.append(watch.since - now)
        now = watch.since
        watch.tick(now)  # restarted
        watch.tick(now)  # ready
        now += 1.0
    assert delays == [0.0, 1.0, 2.0]
    process.returncode = 1
    with pytest.raises(GaveUp, match="actions: exited with code 1; restarted 3 times"):
        watch.tick(now)
    assert "giving up" in lines[-1]


def test_the_window_forgets_old_restarts():
    policy = RestartPolicy(limit=2, window=60.0)
    assert [policy.next_delay(t) for t in (0.0, 1.0)] == [0.0, 1.0]
    with pytest.raises(GaveUp):
        policy.next_delay(2.0)
    assert policy.next_delay(62.0) == 0.0  # the restart at 0 and 1 are out of the window


def test_a_server_not_ready_in_time_counts_as_a_crash(parts):
    watch, process, answers, _guardian, lines = parts
    process.returncode = 1
    watch.tick(0.0)
    watch.tick(0.0)
    assert watch.phase is Phase.STARTING
    answers.script = ["no answer"] * 100
    now = 0.0
    while process.kills < 2 and now < 120:
        now += 1.0
        watch.tick(now)
    assert process.kills == 2 and 60 < now < 63
    assert "actions: not ready after 60 s" in lines[-1]


# --- a standby: a second process of the server, loaded, that takes over at once -----------


@pytest.fixture()
def with_standby(tmp_path):
    serving = FakeProcess(tmp_path, "rasa")
    standby = FakeProcess(tmp_path, "rasa-standby", started=False, first_pid=500)
    answers, guardian = Answers(), FakeGuardian()
    guardian.watch(serving.pid)
    lines: list[str] = []
    log = RunLog(tmp_path / "run" / "supervisor.log", echo=lines.append)
    watch = Watch(
        serving,
        PROBES,
        RestartPolicy(3, 300.0),
        log,
        answers,
        guardian,
        0.0,
        answers.check,
        standby=standby,  # type: ignore[arg-type]
    )
    return watch, serving, standby, answers, guardian, lines


def test_the_standby_starts_with_the_watch_and_takes_over_a_crash_at_once(with_standby):
    watch, serving, standby, answers, guardian, lines = with_standby
    watch.tick(0.1)
    assert standby.starts == 1 and guardian.groups == {100, 501}
    assert lines[-1].endswith("rasa: standby started (pid 501, log rasa-standby.log)")
    serving.returncode = -9
    watch.tick(5.0)
    assert serving.kills == 1 and 100 not in guardian.groups
    assert watch.process is standby and watch.phase is Phase.STARTING  # no pause before it
    assert (
        "rasa: killed by SIGKILL; its standby (pid 501, log rasa-standby.log) takes over: "
        in (lines[-1])
    )
    assert "restart 1 (at most 3 within 300 s)" in lines[-1]
    watch.tick(5.3)  # the old server's process becomes the next standby; the new one is ready
    assert serving.starts == 1 and watch.standby is serving
    assert answers.asked[-1] == ("http://ready/", True)
    assert watch.phase is Phase.RUNNING
    assert lines[-2].endswith("rasa: standby started (pid 101, log rasa.log)")
    assert lines[-1].endswith("rasa: back after 0.3 s (restart 1)")


def test_a_hung_server_is_killed_and_its_standby_takes_over(with_standby):
    watch, serving, standby, answers, _guardian, lines = with_standby
    watch.tick(0.0)
    answers.script = ["no answer within 1 s"] * 3
    for now in (1.0, 2.0, 3.0):
        watch.tick(now)
    assert serving.kills == 1 and watch.process is standby
    assert "rasa: hung: 3 liveness probes in a row failed" in lines[-1]
    assert "its standby (pid 501, log rasa-standby.log) takes over" in lines[-1]


def test_without_a_running_standby_the_server_is_restarted_as_before(with_standby):
    watch, serving, standby, _answers, _guardian, lines = with_standby
    watch.tick(0.0)
    standby.returncode = serving.returncode = 1  # both at once
    watch.tick(1.0)
    assert watch.process is serving and watch.phase is Phase.WAITING
    assert "restart 1 (at most 3 within 300 s) in 0 s" in lines[-1]


def test_a_standby_that_exits_is_started_again_then_given_up(with_standby):
    watch, serving, standby, _answers, _guardian, lines = with_standby
    watch.tick(0.0)
    now = 0.0
    for expected_pause in (0, 1, 2):
        standby.returncode = 1
        watch.tick(now)
        assert lines[-1].endswith(
            f"rasa: standby exited with code 1; started again in {expected_pause} s"
        )
        now += expected_pause
        watch.tick(now)
        assert standby.running()
        now += 1.0
    standby.returncode = 1
    watch.tick(now)
    assert lines[-1].endswith("giving up: going on without one")
    assert watch.standby is None and watch.phase is Phase.RUNNING
    serving.returncode = -9  # the server itself is restarted as without a standby
    watch.tick(now + 1)
    assert watch.process is serving and watch.phase is Phase.WAITING


def test_a_standby_is_stopped_before_its_server(tmp_path):
    from bot.runtime.supervision import Supervisor
    from bot.settings import SupervisionSettings

    journal: list[str] = []
    web, rasa = (StartRecorder(name, journal, tmp_path) for name in ("web", "rasa"))
    standby = StartRecorder("rasa-standby", journal, tmp_path)
    supervisor = Supervisor(
        [web, rasa],  # type: ignore[list-item]
        SupervisionSettings(),
        RunLog(tmp_path / "supervisor.log"),
        say=lambda _: None,
        standbys={"rasa": standby},  # type: ignore[dict-item]
    )
    supervisor.start(lambda: 0.0)
    supervisor.watches[1].tick(0.0)
    supervisor.stop()
    assert journal[-3:] == ["stop rasa-standby", "stop rasa", "stop web"]


# --- the probe itself ---------------------------------------------------------------------


class _Status(http.server.BaseHTTPRequestHandler):
    status = 503

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b'{"status": "degraded"}')

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture()
def degraded_server():
    server = http.server.HTTPServer(("127.0.0.1", 17911), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:17911/health"
    server.shutdown()
    server.server_close()


def test_a_degraded_503_is_alive_but_not_ready(degraded_server):
    assert probe(degraded_server, 2.0) is None
    assert probe(degraded_server, 2.0, need_ok=True) == "HTTP 503"


def test_a_port_that_accepts_and_never_answers_is_not_alive():
    with socket.socket() as silent:  # the kernel accepts connections; nobody reads them
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", 17912))
        silent.listen(8)
        assert probe("http://127.0.0.1:17912/health", 0.5) == "no answer within 0.5 s"


def test_a_closed_port_is_not_alive():
    failure = probe("http://127.0.0.1:17913/health", 0.5)
    assert failure is not None and failure.startswith("no HTTP answer")


def test_an_answer_that_is_not_http_is_not_alive():
    with socket.socket() as garbled:
        garbled.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        garbled.bind(("127.0.0.1", 17914))
        garbled.listen(8)

        def answer() -> None:
            connection, _ = garbled.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"garbage\r\n\r\n")
                connection.settimeout(5)
                connection.recv(1024)  # the client closes first: no TIME_WAIT on our port

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        failure = probe("http://127.0.0.1:17914/health", 2.0)
        thread.join(5)
    assert failure is not None and failure.startswith("no HTTP answer")


class StartRecorder:
    """Only what Supervisor.start uses of a server: starting and waiting until it is ready."""

    def __init__(self, name: str, journal: list[str], tmp_path: Path) -> None:
        self.name, self.journal = name, journal
        self.spec = ServiceSpec(name, [], "http://ready/", tmp_path / f"{name}.log")
        self.pid: int | None = None

    def start(self) -> None:
        self.journal.append(f"start {self.name}")
        self.pid = 200 + len(self.journal)

    def wait_ready(self, timeout: float) -> None:
        self.journal.append(f"ready {self.name}")

    @property
    def process(self) -> object | None:
        return self if self.pid is not None else None

    def running(self) -> bool:
        return self.pid is not None

    def stop(self) -> int:
        self.journal.append(f"stop {self.name}")
        return 0


@pytest.mark.parametrize(
    ("together", "expected"),
    [
        (False, ["start web", "ready web", "start rasa", "ready rasa"]),
        (True, ["start web", "start rasa", "ready web", "ready rasa"]),
    ],
)
def test_servers_start_one_after_another_or_all_at_once(tmp_path, together, expected):
    from bot.runtime.supervision import Supervisor
    from bot.settings import SupervisionSettings

    journal: list[str] = []
    servers = [StartRecorder(name, journal, tmp_path) for name in ("web", "rasa")]
    supervisor = Supervisor(
        servers,  # type: ignore[arg-type]
        SupervisionSettings(),
        RunLog(tmp_path / "supervisor.log"),
        say=lambda _: None,
    )
    supervisor.start(lambda: 0.0, together=together)
    assert journal == expected
