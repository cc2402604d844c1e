"""``python -m bot run`` (what ``make run`` starts): both servers up, both gone after SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from bot.runtime.chat import send
from bot.runtime.processes import STOP_SECONDS

pytestmark = pytest.mark.integration


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_every_server(tmp_path, rasa_model):
    rasa_port, action_port, web_port = 16005, 16055, 16080
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "WEB_PORT": str(web_port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "RUN_DIR": str(tmp_path),
        "RASA_API_TOKEN": "test-token",
        "REST_CHANNEL_TOKEN": "test-rest-token",
    }
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--model", str(rasa_model)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 300
        while "Press Ctrl-C to stop." not in output:
            line = supervisor.stdout.readline()
            assert line or supervisor.poll() is None, f"supervisor exited:\n{output}"
            assert time.monotonic() < deadline, f"not ready in time:\n{output}"
            output += line
        assert "test-token" in output  # the banner says how to reach the HTTP API
        # ... and where the shop page and the console are, with the fresh database's admin
        assert f"http://127.0.0.1:{web_port}/demo" in output
        assert f"http://127.0.0.1:{web_port}/console/" in output
        admin_password = re.search(r"sign in as 'admin' with the password (\S+)", output)[1]
        assert listening(rasa_port) and listening(action_port) and listening(web_port)
        replies = send(
            f"http://127.0.0.1:{rasa_port}",
            "supervised",
            "How do I reset my password?",
            token="test-rest-token",
        )
        assert replies and "password" in replies[0]["text"].lower()

        supervisor.send_signal(signal.SIGTERM)
        # Each of the three servers has STOP_SECONDS to stop before it is killed: on a loaded
        # machine (CI, load 7) the three together took longer than the 60 s this waited.
        rest, _ = supervisor.communicate(timeout=3 * STOP_SECONDS + 30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert supervisor.returncode == 0
    assert "stopping rasa" in rest and "stopping actions" in rest and "stopping web" in rest
    assert "stopped." in rest
    assert not (listening(rasa_port) or listening(action_port) or listening(web_port))
    assert not listening(rasa_port)
    assert not listening(action_port)
    # What the supervisor recorded, and nothing left for the next run to clean up.
    record = (tmp_path / "supervisor.log").read_text()
    assert "rasa: started" in record and "web: stopped" in record
    assert not (tmp_path / "supervisor.pid").exists()
    # The generated password works, and was shown only on the terminal.
    assert asyncio.run(signs_in(env["DATABASE_URL"], "admin", admin_password))
    for written in tmp_path.rglob("*"):
        if written.is_file() and written.suffix != ".db":
            assert admin_password not in written.read_text(errors="replace"), written


async def signs_in(database_url: str, username: str, password: str) -> bool:
    from bot.domain.auth import sign_in
    from bot.store.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            _, agent = await sign_in(session, username, password, "127.0.0.1")
            return agent.is_admin
    finally:
        await engine.dispose()
