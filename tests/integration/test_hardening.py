"""What a running ``python -m bot run`` exposes to other users of the machine: command lines,
the action server's port, and files (issue 13, "Hardening")."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid

import pytest

from tests.integration.conftest import SUPERVISED_WECHAT as WECHAT
from tests.support.supervisor import QUESTION, Supervisor, command_line, http_status

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(supervised_run: Supervisor) -> Supervisor:
    """The session's supervised run, on a database left world-readable before it started and
    with WeChat on (see ``supervised_run`` in conftest.py)."""
    if not supervised_run.running():  # stopped by a module that ran first
        supervised_run.start()
    return supervised_run


def test_a_whole_conversation_works_through_the_authenticated_action_server(run):
    replies = run.send(QUESTION, f"hardening-{uuid.uuid4().hex[:8]}")
    assert replies and "password" in replies[0]["text"].lower()  # action_answer_faq ran


def test_no_secret_is_on_any_command_line(run):
    secrets = [*run.secrets.values(), WECHAT["WECHAT_TOKEN"], WECHAT["WECHAT_APP_SECRET"]]
    secrets.append(WECHAT["WECHAT_ENCODING_AES_KEY"])
    # -ww: without a terminal, ps cuts lines at 80 characters, and a token further right
    # would go unseen.
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid,args", "--no-headers"], capture_output=True, text=True, check=True
    ).stdout
    rasa = f"--port {run.rasa_port}"
    assert any(rasa in line for line in listing.splitlines())  # whole command lines, Rasa's too
    leaked = [line for line in listing.splitlines() if any(s in line for s in secrets)]
    assert leaked == []
    for pid in run.processes():  # and as the kernel has them, for every process of the run
        assert not any(s in command_line(pid) for s in secrets), command_line(pid)


def webhook(run, headers: dict[str, str]) -> int:
    call = {
        "next_action": "action_begin_turn",
        "sender_id": "crafted",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "crafted",
            "slots": {"language": "en"},
            "latest_message": {"text": "hello there", "intent": {}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    return http_status(
        f"http://127.0.0.1:{run.action_port}/webhook",
        timeout=30,
        headers={"Content-Type": "application/json", **headers},
        data=json.dumps(call).encode(),
    )


def test_the_action_server_serves_only_who_has_its_token(run):
    token = run.secrets["ACTION_SERVER_TOKEN"]
    assert webhook(run, {}) == 401
    assert webhook(run, {"Authorization": "Bearer wrong"}) == 401
    assert webhook(run, {"Authorization": token}) == 401  # the scheme is part of it
    assert webhook(run, {"Authorization": f"Bearer {token}"}) == 200
    assert http_status(f"http://127.0.0.1:{run.action_port}/health") == 200  # for probes


def test_the_runs_files_are_private(run):
    replies = run.send(QUESTION, f"hardening-{uuid.uuid4().hex[:8]}")
    assert replies
    files = [
        run.run_dir,
        run.database,
        run.database.with_name("rasa_tracker.db"),
        *run.run_dir.iterdir(),
    ]
    for suffix in ("-wal", "-shm"):
        files += [p for p in run.work.glob(f"*.db{suffix}")]
    modes = {str(p): stat.filemode(p.stat().st_mode) for p in files if p.exists()}
    assert str(run.database) in modes and str(run.run_dir / "rasa.log") in modes
    readable = {p: m for p, m in modes.items() if stat.S_IMODE(os.stat(p).st_mode) & 0o077}
    assert readable == {}
