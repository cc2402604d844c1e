"""What the supervisor hands its servers (files, environment, command lines), and how its
children end."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot.runtime.processes import (
    WECHAT_CHANNEL,
    ManagedProcess,
    ServiceSpec,
    action_server,
    assistant_processes,
    credentials_for,
    endpoints_for,
    rasa_server,
)
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(credentials_file=REPO / "credentials.yml", run_dir=tmp_path, **values)


def test_the_wechat_channel_is_left_out_without_a_token(tmp_path):
    written = yaml.safe_load(credentials_for(settings(tmp_path), tmp_path / "c.yml").read_text())
    assert WECHAT_CHANNEL not in written
    assert "connectors.socketio.WidgetSocketIOInput" in written
    assert "connectors.rest.TokenRestInput" in written and "rest" not in written


def test_every_variable_a_channel_names_is_in_rasas_environment(tmp_path):
    chosen = settings(tmp_path, wechat_token="tok", rest_channel_token="rest-secret")
    path = credentials_for(chosen, tmp_path / "c.yml")
    text = path.read_text()
    assert "rest-secret" not in text
    env = rasa_server(chosen, tmp_path / "model.tar.gz", tmp_path / "e.yml", path).env
    named = {
        value[2:-1]
        for section in yaml.safe_load(text).values()
        for value in (section or {}).values()
        if isinstance(value, str) and value.startswith("${")
    }
    assert named and named <= set(env)
    assert env["REST_CHANNEL_TOKEN"] == "rest-secret"


def test_with_a_token_the_channel_is_on_and_its_secrets_stay_in_the_environment(tmp_path):
    chosen = settings(
        tmp_path,
        wechat_token="tok-123",
        wechat_app_id="wx1",
        wechat_app_secret="app-secret-456",
        wechat_encoding_aes_key="k" * 43,
    )
    path = credentials_for(chosen, tmp_path / "c.yml")
    text = path.read_text()
    assert yaml.safe_load(text)[WECHAT_CHANNEL]["token"] == "${WECHAT_TOKEN}"
    for secret in ("tok-123", "app-secret-456", "k" * 43):
        assert secret not in text
    env = rasa_server(chosen, tmp_path / "model.tar.gz", tmp_path / "e.yml", path).env
    assert env["WECHAT_TOKEN"] == "tok-123" and env["WECHAT_APP_SECRET"] == "app-secret-456"
    # Rasa refuses a file naming an unset variable: every one the section names is set
    names = {v[2:-1] for v in yaml.safe_load(text)[WECHAT_CHANNEL].values()}
    assert names <= set(env)


# --- issue 13 (hardening): secrets, the action server's token, processes that outlive us -----

SECRETS = {
    "rasa_api_token": "api-s3cret-1",
    "rest_channel_token": "rest-s3cret-2",
    "action_server_token": "act-s3cret-3",
    "identity_secret": "ident-s3cret-4",
    "wechat_token": "wxtok-s3cret-5",
    "wechat_app_secret": "wxapp-s3cret-6",
    "wechat_encoding_aes_key": "A" * 43,
    "database_url": "postgresql://shop:db-s3cret-7@127.0.0.1:5432/shop",
    "event_broker_url": "amqp://guest:amqp-s3cret-8@127.0.0.1:5672/",
    "redis_url": "redis://:redis-s3cret-9@127.0.0.1:6379/0",
}
SECRET_VALUES = [v for k, v in SECRETS.items() if k not in ("database_url", "event_broker_url")]
SECRET_VALUES += ["db-s3cret-7", "amqp-s3cret-8"]


def test_no_secret_is_on_a_command_line_or_in_the_files_written_for_rasa(tmp_path):
    chosen = settings(tmp_path, endpoints_file=REPO / "endpoints.yml", **SECRETS)
    processes = assistant_processes(chosen, tmp_path / "model.tar.gz", tmp_path / "files")
    assert {p.name for p in processes} == {"rasa", "actions", "web"}
    for process in processes:
        line = " ".join(process.spec.command)
        assert [s for s in SECRET_VALUES if s in line] == [], process.name
    for written in (tmp_path / "files").iterdir():
        text = written.read_text()
        assert [s for s in SECRET_VALUES if s in text] == [], written.name


def test_rasa_sends_the_action_servers_token_read_from_its_environment(tmp_path):
    chosen = settings(tmp_path, endpoints_file=REPO / "endpoints.yml", action_server_token="t0k")
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    endpoint = yaml.safe_load(path.read_text())["action_endpoint"]
    assert endpoint == {
        "url": f"{chosen.servers.action_url}/webhook",
        "headers": {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"},
    }
    rasa = rasa_server(chosen, tmp_path / "m.tar.gz", path, tmp_path / "c.yml")
    assert rasa.env["ACTION_SERVER_TOKEN"] == "t0k"
    assert action_server(chosen).env["ACTION_SERVER_TOKEN"] == "t0k"


RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="no Rasa venv (.venv-rasa): run make setup")
def test_rasa_itself_resolves_the_token_reference_in_the_endpoints_file(tmp_path):
    chosen = settings(tmp_path, endpoints_file=REPO / "endpoints.yml")
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    read = (
        "import json, sys; from rasa.utils.endpoints import read_endpoint_config;"
        "e = read_endpoint_config(sys.argv[1], 'action_endpoint');"
        "print(json.dumps({'url': e.url, 'headers': e.headers}))"
    )
    env = {**os.environ, "ACTION_SERVER_TOKEN": "from-the-env"}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", read, str(path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    endpoint = json.loads(done.stdout.strip().splitlines()[-1])
    assert endpoint["headers"] == {"Authorization": "Bearer from-the-env"}


def test_the_action_server_token_is_random_per_run_when_unset(tmp_path):
    first, second = settings(tmp_path), settings(tmp_path, action_server_token="")
    tokens = {s.rasa.action_server_token.get_secret_value() for s in (first, second)}
    assert len(tokens) == 2 and "" not in tokens


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


STARTER = """
import sys, time
from pathlib import Path
from bot.runtime.processes import ManagedProcess, ServiceSpec
child = ManagedProcess(ServiceSpec(
    "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
    "http://127.0.0.1:1/", Path(sys.argv[1])))
child.start()
print(child.process.pid, flush=True)
time.sleep(60)
"""


def test_a_child_dies_with_the_process_that_started_it_even_on_sigkill(tmp_path):
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path / "sleeper.log")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(starter.stdout.readline())
    try:
        assert _alive(child)
        starter.kill()
        starter.wait()
        assert _wait_gone([child], 5) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_stop_leaves_nothing_of_the_process_group(tmp_path):
    # The leader exits on SIGTERM; its own child ignores SIGTERM and would hold on (a port).
    stubborn = (
        "import signal, subprocess, sys, time;"
        "subprocess.Popen(['sh', '-c', \"trap '' TERM; exec sleep 60\"]);"
        "time.sleep(60)"
    )
    process = ManagedProcess(
        ServiceSpec("stubborn", [sys.executable, "-c", stubborn], "", tmp_path / "s.log")
    )
    process.start()
    group = process.process.pid
    time.sleep(0.5)
    members = _group_members(group)
    try:
        assert len(members) == 2
        process.stop(timeout=5)
        assert _wait_gone(members, 5) == []
    finally:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_kill_ends_the_group_also_after_its_main_process_died(tmp_path):
    # As after kill -9 of the action server's main process: what it started lives on.
    orphaning = "import subprocess; subprocess.Popen(['sleep', '60'])"
    process = ManagedProcess(
        ServiceSpec("orphaning", [sys.executable, "-c", orphaning], "", tmp_path / "o.log")
    )
    process.start()
    process.process.wait()
    members = _group_members(process.pid)
    try:
        assert len(members) == 1 and not process.running()
        process.kill()
        assert _wait_gone(members, 5) == []
    finally:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _group_members(group: int) -> list[int]:
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


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_sqlite_database_in_memory_is_refused_for_rasa_s_stores(tmp_path, url):
    # Rasa's tracker store and event broker are other processes: they need a file to share.
    with pytest.raises(ValueError, match="need an SQLite file"):
        endpoints_for(settings(tmp_path, database_url=url), tmp_path / "endpoints.yml")


# Ready at once; remembers what was POSTed to it (a server's first-use work, such as Rasa's).
WARMED_SERVER = """
import http.server, sys
from pathlib import Path
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Path(sys.argv[2]).write_bytes(self.path.encode() + b" " + body)
        self.send_response(200); self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_a_server_is_called_ready_once_its_warm_up_request_was_answered(tmp_path):
    import socket

    from bot.runtime.processes import WarmUp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    received = tmp_path / "received"
    server = ManagedProcess(
        ServiceSpec(
            "warmed",
            [sys.executable, "-c", WARMED_SERVER, str(port), str(received)],
            f"http://127.0.0.1:{port}/status",
            tmp_path / "warmed.log",
            warm_up=WarmUp(f"http://127.0.0.1:{port}/model/parse", {"text": "你好"}),
        )
    )
    server.start()
    try:
        server.wait_ready(30)
        path, _, body = received.read_bytes().partition(b" ")
        assert path == b"/model/parse"
        assert json.loads(body) == {"text": "你好"}
    finally:
        server.stop()


def test_rasa_parses_a_chinese_and_english_message_before_it_is_called_ready(tmp_path):
    chosen = settings(tmp_path)
    spec = rasa_server(chosen, tmp_path / "model.tar.gz", tmp_path / "e.yml", tmp_path / "c.yml")
    assert spec.warm_up is not None
    assert spec.warm_up.url.startswith(f"{chosen.servers.rasa_url}/model/parse?token=")
    assert spec.warm_up.body["text"] == "你好, where is my order?"


def test_only_servers_given_a_serving_lock_wait_for_it_and_can_stand_by(tmp_path):
    from bot.runtime.processes import standby_of
    from connectors.standby import LOCK_ENV

    chosen = settings(tmp_path, endpoints_file=REPO / "endpoints.yml")
    lock = tmp_path / "run" / "actions-serving.lock"
    processes = {
        p.name: p
        for p in assistant_processes(
            chosen, tmp_path / "model.tar.gz", tmp_path / "files", serving_locks={"actions": lock}
        )
    }
    assert processes["actions"].spec.env[LOCK_ENV] == str(lock)
    assert LOCK_ENV not in processes["rasa"].spec.env | processes["web"].spec.env
    standby = standby_of(processes["actions"]).spec
    assert (standby.name, standby.env[LOCK_ENV]) == ("actions-standby", str(lock))
    assert standby.log_path == processes["actions"].spec.log_path.with_name("actions-standby.log")
    with pytest.raises(ValueError, match="takes no serving lock"):
        standby_of(processes["web"])
