"""``python -m bot run`` (what ``make run`` starts): every server up, every one gone after SIGTERM.

The session's supervised run (``supervised_run`` in conftest.py), stopped here: after
test_faults.py, the supervisor that started again after its own crash.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.runtime.processes import STOP_SECONDS
from tests.support.supervisor import QUESTION, Supervisor, listening

pytestmark = pytest.mark.integration


def test_sigterm_stops_every_server(supervised_run: Supervisor):
    run = supervised_run
    if not run.running():  # stopped by a module that ran first
        run.start()
    output = run.output()  # from the first start: the banner on the fresh database
    # The banner says how to reach the HTTP API ...
    assert run.secrets["RASA_API_TOKEN"] in output
    # ... and where the shop page and the console are, with the fresh database's admin
    assert f"http://127.0.0.1:{run.web_port}/demo" in output
    assert f"http://127.0.0.1:{run.web_port}/console/" in output
    admin_password = re.search(r"sign in as 'admin' with the password (\S+)", output)[1]
    assert all(listening(port) for port in run.ports)
    replies = run.send(QUESTION, "supervised")
    assert replies and "password" in replies[0]["text"].lower()

    offset = len(run.out.read_bytes())
    # Each of the three servers has STOP_SECONDS to stop before it is killed: on a loaded
    # machine (CI, load 7) the three together took longer than the 60 s this waited.
    assert run.stop(timeout=3 * STOP_SECONDS + 30) == 0
    rest = run.output(offset)
    assert "stopping rasa" in rest and "stopping actions" in rest and "stopping web" in rest
    assert "stopped." in rest
    assert not any(listening(port) for port in run.ports)
    assert run.processes() == []  # grandchildren too
    # What the supervisor recorded, and nothing left for the next run to clean up.
    record = (run.run_dir / "supervisor.log").read_text()
    assert "rasa: started" in record and "web: stopped" in record
    assert not (run.run_dir / "supervisor.pid").exists()
    # The generated password works, and was shown only on the terminal.
    assert asyncio.run(signs_in(f"sqlite:///{run.database}", "admin", admin_password))
    written = [p for p in run.run_dir.rglob("*") if p.is_file()]
    written += [p for p in run.work.iterdir() if p.is_file() and p != run.out]
    for path in written:
        if path.suffix != ".db":
            assert admin_password not in path.read_text(errors="replace"), path


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
