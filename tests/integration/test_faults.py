"""Crashes of real processes under ``python -m bot run``: each server comes back by itself, and
no message the customer saw answered is lost or stored twice.

The session's supervised run (``supervised_run`` in conftest.py: a whole stack takes a minute
to start); the tests run in file order, the supervisor's own crash last, which leaves a new
supervisor running: test_run_supervisor.py checks that it stops cleanly on SIGTERM. Each test
prints how long detection and recovery took.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.support.supervisor import (
    QUESTION,
    Supervisor,
    http_status,
    listening,
    process_state,
    wait_for,
)

pytestmark = pytest.mark.integration

RECOVERY_TIMEOUT = 240.0  # Rasa loads its model again after a crash: allow for a busy machine


class Ledger:
    """Every message that got HTTP 200, to check that each is stored exactly once."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.answered: list[tuple[str, str]] = []

    def ask(self, timeout: float = 10.0) -> bool:
        """Send the test question as a new customer; True when the right answer came back."""
        sender = f"fault-{uuid.uuid4().hex[:12]}"
        try:
            replies = self.supervisor.send(QUESTION, sender, timeout=timeout)
        except OSError:
            return False
        self.answered.append((sender, QUESTION))
        return bool(replies) and "password" in (replies[0].get("text") or "").lower()

    def counts(self) -> dict[str, int]:
        engine = create_engine(f"sqlite:///{self.supervisor.database}")
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT c.sender_id, COUNT(i.id) FROM conversations c"
                        " JOIN interactions i ON i.conversation_id = c.id"
                        " WHERE i.direction = 'customer' AND i.text = :text"
                        " GROUP BY c.sender_id"
                    ),
                    {"text": QUESTION},
                ).all()
        finally:
            engine.dispose()
        return {sender: count for sender, count in rows}

    def assert_each_stored_once(self, timeout: float = 30.0) -> None:
        senders = [sender for sender, _ in self.answered]
        wait_for(lambda: all(self.counts().get(s, 0) >= 1 for s in senders), timeout, 0.5)
        counts = self.counts()
        assert {s: counts.get(s, 0) for s in senders} == dict.fromkeys(senders, 1)


@pytest.fixture(scope="module")
def run(supervised_run: Supervisor) -> Supervisor:
    # The default probe settings: what is measured here is what `make run` does.
    if not supervised_run.running():  # stopped by a module that ran first
        supervised_run.start()
    return supervised_run


@pytest.fixture(scope="module")
def ledger(run) -> Ledger:
    return Ledger(run)


def supervisor_log(run: Supervisor) -> str:
    path = run.run_dir / "supervisor.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def detected_after(run: Supervisor, offset: int, server: str, since: float) -> float | None:
    """Seconds from ``since`` (time.time()) to the supervisor's first record about ``server``."""
    for line in supervisor_log(run)[offset:].splitlines():
        stamp, _, rest = line.partition(" ")
        if rest.startswith(f"{server}:"):
            return dt.datetime.fromisoformat(stamp).timestamp() - since
    return None


def wait_back(run: Supervisor, offset: int, server: str) -> None:
    """Until the supervisor has seen ``server`` ready again (the next fault finds it running)."""
    wait_for(lambda: f"{server}: back after" in supervisor_log(run)[offset:], RECOVERY_TIMEOUT)


def crash_and_recover(run, ledger, server: str, crash) -> tuple[float, str]:
    """Ask once, ``crash()``, then ask until answered; (seconds to recover, the log's news)."""
    assert ledger.ask(timeout=60), "the assistant does not answer before the crash"
    group = run.server_pid(server)
    old = run.group(group)
    offset = len(supervisor_log(run))
    since = time.time()
    started = time.monotonic()
    crash()
    wait_for(lambda: ledger.ask(timeout=10), RECOVERY_TIMEOUT, 0.5)
    recovered = time.monotonic() - started
    wait_back(run, offset, server)
    news = supervisor_log(run)[offset:]
    detected = detected_after(run, offset, server, since)
    print(f"\n{server}: detected after {detected:.2f} s, answering again after {recovered:.1f} s")
    print(news)
    left = [pid for pid in old if pid in run.processes()]
    assert left == [], f"left of the crashed server:\n{run.describe(left)}"
    return recovered, news


def test_a_killed_action_server_is_replaced_by_its_standby_within_10_s(run, ledger):
    wait_for(lambda: run.standing_by("actions") >= 1, RECOVERY_TIMEOUT, 0.5)
    main = run.server_pid("actions")
    recovered, news = crash_and_recover(
        run, ledger, "actions", lambda: os.kill(main, signal.SIGKILL)
    )
    assert "actions: killed by SIGKILL; its standby" in news
    assert recovered < 10
    assert run.server_pid("actions") != main
    ledger.assert_each_stored_once()


def test_a_killed_web_service_is_restarted_and_ingests_what_it_missed(run, ledger):
    web = run.server_pid("web")
    health = f"http://127.0.0.1:{run.web_port}/health"
    assert ledger.ask(timeout=60)
    offset = len(supervisor_log(run))
    since = time.time()
    os.kill(web, signal.SIGKILL)
    started = time.monotonic()
    assert ledger.ask(timeout=60)  # Rasa answers while the web service is down
    back = wait_for(lambda: http_status(health) == 200, RECOVERY_TIMEOUT, 0.2)
    wait_back(run, offset, "web")
    detected = detected_after(run, offset, "web", since)
    print(f"\nweb: detected after {detected:.2f} s, healthy again after {back:.1f} s")
    print(supervisor_log(run)[offset:])
    assert "web: killed by SIGKILL" in supervisor_log(run)[offset:]
    assert time.monotonic() - started < 30
    ledger.assert_each_stored_once()


def test_a_hung_web_service_is_restarted(run, ledger):
    web = run.server_pid("web")
    health = f"http://127.0.0.1:{run.web_port}/health"
    offset = len(supervisor_log(run))
    since = time.time()
    os.killpg(web, signal.SIGSTOP)  # alive, port open, answers nothing: hung
    try:
        back = wait_for(
            lambda: http_status(health, timeout=1) == 200 and run.server_pid("web") != web,
            RECOVERY_TIMEOUT,
            0.2,
        )
    finally:
        if process_state(web) not in ("", "Z"):
            os.killpg(web, signal.SIGCONT)
    wait_back(run, offset, "web")
    detected = detected_after(run, offset, "web", since)
    print(f"\nweb (SIGSTOP): detected after {detected:.2f} s, healthy again after {back:.1f} s")
    print(supervisor_log(run)[offset:])
    assert "web: hung" in supervisor_log(run)[offset:]
    assert process_state(web) in ("", "Z")  # the stopped process was killed, not left behind
    ledger.assert_each_stored_once()


def test_a_killed_rasa_server_is_replaced_by_its_standby_within_10_s(run, ledger):
    # The run's first standby, then the one started at the first takeover: each stands by
    # (loaded) before its server is killed, as it would be minutes into a real run.
    stood = 0
    for _takeover in (1, 2):
        wait_for(lambda stood=stood: run.standing_by("rasa") > stood, RECOVERY_TIMEOUT, 0.5)
        stood = run.standing_by("rasa")
        rasa = run.server_pid("rasa")
        recovered, news = crash_and_recover(
            run, ledger, "rasa", lambda rasa=rasa: os.kill(rasa, signal.SIGKILL)
        )
        assert "rasa: killed by SIGKILL; its standby" in news
        assert recovered < 10
        assert run.server_pid("rasa") != rasa
    ledger.assert_each_stored_once()


def test_a_killed_supervisor_takes_every_server_with_it(run, ledger, rasa_model):
    assert ledger.ask(timeout=60)
    before = run.processes()
    assert len(before) >= 5  # supervisor, rasa, actions (+ its worker), web
    started = time.monotonic()
    run.process.kill()
    run.process.wait()
    try:
        gone = wait_for(lambda: not run.processes(), 30, 0.1)
    except AssertionError:
        raise AssertionError(f"left running:\n{run.describe(run.processes())}") from None
    print(f"\nsupervisor SIGKILL: every process of the run gone after {gone:.1f} s")
    assert not any(listening(port) for port in run.ports)

    # A new supervisor on the same ports and run directory starts cleanly and answers.
    run.start()
    print(f"a new supervisor answers {time.monotonic() - started:.1f} s after the crash")
    assert ledger.ask(timeout=60)
    ledger.assert_each_stored_once()  # what was asked before the crash too (ingested now)
