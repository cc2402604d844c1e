"""``python -m bot cluster`` (what ``make cluster`` starts) as a real process, for the tests
that talk to it through nginx, to one replica directly, and kill replicas.

The run's processes carry ``TEST_RUN_MARK`` (see :mod:`tests.support.supervisor`), so that
whatever is left of them when a test fails is found and killed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.runtime.cluster_run import READY
from tests.support.supervisor import REPO
from tests.support.supervisor import Supervisor as _Run

STARTED = re.compile(r" (?P<name>[a-z]+-\d+|nginx): started \(pid (?P<pid>\d+)\)")
UPSTREAM = re.compile(r'"(?P<method>[A-Z]+) (?P<uri>\S+)" (?P<status>\d+) .* upstream=(?P<up>\S+)')


class ClusterRun(_Run):
    """One ``python -m bot cluster``: nginx on ``ports`` (Rasa, actions, web), replica ``i``
    of each on that port + ``i``; its output in ``work/supervisor.out``."""

    def __init__(
        self,
        work: Path,
        model: Path,
        ports: tuple[int, int, int],
        replicas: int = 2,
        **env: str,
    ) -> None:
        rasa, actions, web = ports
        super().__init__(work, model, (rasa, actions, web), CLUSTER_REPLICAS=str(replicas), **env)
        self.replicas = replicas

    def start(self, timeout: float = 300.0) -> None:
        with open(self.out, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "cluster", "--model", str(self.model)],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while READY not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(f"the cluster exited:\n{self.output()[-5000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready in {timeout:.0f} s:\n{self.output()[-5000:]}")
            time.sleep(0.5)

    # --- where things are -------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def replica_url(self, name: str) -> str:
        """``rasa-2`` -> its own address, bypassing nginx."""
        kind, index = name.rsplit("-", 1)
        front = {"rasa": self.rasa_port, "actions": self.action_port, "web": self.web_port}[kind]
        return f"http://127.0.0.1:{front + int(index)}"

    def replica_at(self, address: str) -> str:
        """The name of the replica listening at ``127.0.0.1:PORT``."""
        port = int(address.rsplit(":", 1)[1])
        for kind, front in (("rasa", self.rasa_port), ("actions", self.action_port)):
            if front < port <= front + self.replicas:
                return f"{kind}-{port - front}"
        return f"web-{port - self.web_port}"

    def supervisor_log(self) -> str:
        try:
            return (self.run_dir / "supervisor.log").read_text()
        except FileNotFoundError:
            return ""

    def access_log(self) -> list[dict[str, str]]:
        """nginx's access log: method, uri, status and upstream address of each request."""
        try:
            lines = (self.run_dir / "nginx" / "access.log").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [m.groupdict() for line in lines if (m := UPSTREAM.search(line))]

    def pid(self, name: str) -> int:
        """The main process of a server as first started (its process group's id)."""
        found = [
            int(m["pid"]) for m in STARTED.finditer(self.supervisor_log()) if m["name"] == name
        ]
        assert found, f"{name} never started:\n{self.supervisor_log()}"
        return found[-1]

    def kill(self, name: str) -> None:
        """kill -9 a server's whole process group."""
        os.killpg(self.pid(name), signal.SIGKILL)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


async def customer_texts(database_url: str, senders: list[str]) -> dict[str, list[str]]:
    """What each conversation's customer said, as their profile has it, in order."""
    from bot.domain.customers import find_customer
    from bot.domain.profiles import profile_document
    from bot.store.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            found: dict[str, list[str]] = {}
            for sender in senders:
                customer = await find_customer(session, sender)
                interactions = (
                    (await profile_document(session, customer))["interactions"] if customer else []
                )
                found[sender] = [
                    i["text"]
                    for i in interactions
                    if i["conversation"] == sender and i["direction"] == "customer"
                ]
            return found
    finally:
        await engine.dispose()


def wait_until_serving(run: ClusterRun, name: str, timeout: float = 300.0) -> float:
    """Seconds until the replica ``name`` answers 200 on its own port (a restarted Rasa server
    loads its model first)."""
    from tests.support.supervisor import http_status, wait_for

    return wait_for(lambda: http_status(f"{run.replica_url(name)}/", 5) == 200, timeout, 1.0)


async def tracker_user_texts(database_url: str, senders: list[str]) -> dict[str, list[str]]:
    """What each conversation's customer said as Rasa's tracker store has it (diagnostics:
    a message there and not in the profile was lost between Rasa and ingestion)."""
    import json

    from sqlalchemy import text

    from bot.runtime.rasa_stores import tracker_store_url
    from bot.settings import DatabaseSettings
    from bot.store.db import create_engine

    engine = create_engine(tracker_store_url(DatabaseSettings(database_url=database_url)))
    found: dict[str, list[str]] = {sender: [] for sender in senders}
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
            )
            for sender, data in rows:
                if sender in found:
                    found[sender].append(json.loads(data).get("text"))
    finally:
        await engine.dispose()
    return found
