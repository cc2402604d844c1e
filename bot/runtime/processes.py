"""Start, watch and stop the assistant's server processes (used by ``make run`` and the tests).

Each process runs in its own session (process group), so that a Ctrl-C in the terminal reaches
only the supervisor, which then stops every child in order and waits for it; stopping or killing
a server signals its whole group, so that its worker processes never keep its port. Children
also get SIGTERM from the kernel when the process that started them dies (see
:mod:`bot.runtime.guardian`). No secret is ever on a command line, which every user of the machine can
read (``ps``): tokens and passwords go through the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.runtime.guardian import parent_death_signal
from bot.runtime.rasa_stores import prepare_tracker_store, rasa_store_endpoints
from bot.settings import Settings
from connectors.standby import LOCK_ENV

WECHAT_CHANNEL = "connectors.wechat.WeChatInput"
# Rasa calls the action server with this header; Rasa resolves the reference from its
# environment when it reads the endpoints file, so the token is never written to a file.
ACTION_SERVER_AUTH = {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}


# How long a server may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 20.0

log = logging.getLogger(__name__)


class ProcessFailed(RuntimeError):
    """A process exited or did not become ready; the message ends with its log's tail."""


@dataclass(frozen=True)
class WarmUp:
    """A request a just-started server is sent before it is called ready, to do its first-use
    work then: Rasa loads its Chinese tokenizer's dictionary and builds its model's graphs at
    its first message (seconds, on its event loop), which its first customers, and every
    request waiting behind them, would otherwise wait for."""

    url: str
    body: dict[str, Any]


@dataclass
class ServiceSpec:
    name: str
    command: list[str]
    ready_url: str  # answers 200 once the server can serve
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    # Answers HTTP at all while the server lives (any status: 503 "degraded" is alive);
    # empty: ready_url.
    live_url: str = ""
    warm_up: WarmUp | None = None


class ManagedProcess:
    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        """The main process's pid, which is also its process group's id."""
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def start(self, die_with_starter: bool = True) -> None:
        """Start the server. ``die_with_starter``: the kernel sends it SIGTERM when the thread
        that started it ends (the supervisor's main thread); a caller starting it from a
        short-lived thread must say False and stop it itself."""
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.spec.log_path, "ab")  # noqa: SIM115 - the child owns it from here
        try:
            self.process = subprocess.Popen(
                self.spec.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.spec.env},
                start_new_session=True,
                preexec_fn=parent_death_signal() if die_with_starter else None,
            )
        finally:
            log.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.spec.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                code = self.process.returncode if self.process else None
                raise ProcessFailed(f"{self.name} exited with {code}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.spec.ready_url, timeout=2) as response:
                    ready = response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                ready = False
            if ready:
                self._warm_up(deadline)
                return
            time.sleep(0.5)
        raise ProcessFailed(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def _warm_up(self, deadline: float) -> None:
        warm_up = self.spec.warm_up
        if warm_up is None:
            return
        request = urllib.request.Request(
            warm_up.url,
            data=json.dumps(warm_up.body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=max(5.0, deadline - time.monotonic())):
                pass
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            log.warning("%s: warm-up failed (%s); its first request does that work", self.name, exc)

    def kill(self) -> None:
        """SIGKILL the process group at once and reap its main process (before a restart, or
        a crash in a test), also when the main process has ended already: what it started may
        live on in the group."""
        if self.process is not None:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill_group(self) -> None:
        """SIGKILL whatever is left of the process group (after its main process ended)."""
        if self.process is not None:
            _signal_group(self.process.pid, signal.SIGKILL)

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM the process group, then SIGKILL what is left after ``timeout`` (and what
        outlived the main process in its group)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.kill_group()
        return self.process.returncode


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def describe_exit(returncode: int | None) -> str:
    """How a process ended, for people: "exited with code 1", "killed by SIGKILL".

    >>> describe_exit(-9), describe_exit(3)
    ('killed by SIGKILL', 'exited with code 3')
    """
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _python_path() -> str:
    return os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))


def wechat_env(settings: Settings) -> dict[str, str]:
    """What ``credentials.yml``'s WeChat section reads (Rasa needs every variable it names)."""
    return {
        **settings.wechat.environment(),
        # Without Redis, the retry ledger outlives a restart in this file.
        "WECHAT_STATE_PATH": str(settings.supervision.run_dir / "wechat-state.db"),
    }


def rasa_env(settings: Settings) -> dict[str, str]:
    """Rasa's section of the settings (its API token, read by ``connectors.launch``; the action
    server's; the REST channel's; the input gate's bound; the widget's pages), the identity
    secret its channels verify customers with, the web service's origin (the demo page's,
    which the widget's channel always allows), and the bound on any request body Sanic reads
    before a handler sees it (its default is 100 MB)."""
    return {
        "SANIC_REQUEST_MAX_SIZE": str(1024 * 1024),
        **settings.rasa.environment(),
        "IDENTITY_SECRET": settings.privacy.identity_secret.get_secret_value(),
        "WIDGET_PAGE_ORIGIN": settings.servers.web_url,
    }


def proxy_env(settings: Settings) -> dict[str, str]:
    """``RASA_PROXIES_COUNT`` as Sanic's ``SANIC_PROXIES_COUNT``: behind that many proxies, Rasa's
    ``request.remote_addr`` (the socket.io channel's per-address ticket limit) is the client's
    address from ``X-Forwarded-For``. Unset at 0, so that an exported variable still applies."""
    if not settings.rasa.rasa_proxies_count:
        return {}
    return {"SANIC_PROXIES_COUNT": str(settings.rasa.rasa_proxies_count)}


def rasa_server(settings: Settings, model: Path, endpoints: Path, credentials: Path) -> ServiceSpec:
    """``rasa run`` through ``connectors.launch``, which hands Rasa the API token from the
    environment (``RASA_API_TOKEN``) rather than from the command line."""
    token = settings.rasa.rasa_api_token.get_secret_value()
    command = [
        str(settings.supervision.rasa_venv / "bin" / "python"),
        "-m",
        "connectors.launch",
        "run",
        "--model",
        str(model),
        "--enable-api",
        "--interface",
        settings.servers.host,
        "--port",
        str(settings.servers.rasa_port),
        "--credentials",
        str(credentials),
        "--endpoints",
        str(endpoints),
    ]
    return ServiceSpec(
        name="rasa",
        command=command,
        ready_url=f"{settings.servers.rasa_url}/status?token={token}",
        live_url=f"{settings.servers.rasa_url}/",
        warm_up=WarmUp(
            f"{settings.servers.rasa_url}/model/parse?token={token}",
            {"text": "你好, where is my order?"},
        ),
        log_path=settings.supervision.run_dir / "rasa.log",
        env={
            "PYTHONPATH": _python_path(),  # for connectors/, named in credentials.yml
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **rasa_store_endpoints(settings)[1],
            **wechat_env(settings),
            **rasa_env(settings),
            **proxy_env(settings),
        },
    )


def action_server(settings: Settings) -> ServiceSpec:
    """rasa-sdk's server through :mod:`bot.runtime.action_server`, which refuses every caller but
    Rasa (``ACTION_SERVER_TOKEN``)."""
    return ServiceSpec(
        name="actions",
        command=[
            sys.executable,
            "-m",
            "bot.runtime.action_server",
            "--actions",
            "actions",
            "--warm-up",
            "actions.faq:faq_searcher",  # ready once the FAQ model and index are loaded
            "--port",
            str(settings.servers.action_port),
        ],
        ready_url=f"{settings.servers.action_url}/health",
        log_path=settings.supervision.run_dir / "actions.log",
        env={
            **settings.environment(),
            "SANIC_HOST": settings.servers.host,
            "ACTION_SERVER_SANIC_WORKERS": "1",
            "PYTHONPATH": _python_path(),
            "ACTION_SERVER_TOKEN": settings.rasa.action_server_token.get_secret_value(),
        },
    )


def web_server(settings: Settings) -> ServiceSpec:
    return ServiceSpec(
        name="web",
        command=[sys.executable, "-m", "bot", "web"],
        ready_url=f"{settings.servers.web_url}/health",
        log_path=settings.supervision.run_dir / "web.log",
        env={
            **settings.environment(),
            "PYTHONPATH": _python_path(),
        },
    )


def endpoints_for(settings: Settings, path: Path) -> Path:
    """Write a copy of the endpoints file for this run: its action server, tracker store and
    event broker (see :mod:`bot.runtime.rasa_stores`)."""
    endpoints = (
        yaml.safe_load(settings.supervision.endpoints_file.read_text(encoding="utf-8")) or {}
    )
    endpoints["action_endpoint"] = {
        "url": f"{settings.servers.action_url}/webhook",
        "headers": dict(ACTION_SERVER_AUTH),
    }
    endpoints.update(rasa_store_endpoints(settings)[0])
    prepare_tracker_store(settings.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def credentials_for(settings: Settings, path: Path) -> Path:
    """Write a copy of the credentials file for this run, with the WeChat channel only when
    ``WECHAT_TOKEN`` is set. Secrets stay ``${VAR}`` references, read from Rasa's environment."""
    credentials = (
        yaml.safe_load(settings.supervision.credentials_file.read_text(encoding="utf-8")) or {}
    )
    if not settings.wechat.wechat_token.get_secret_value():
        credentials.pop(WECHAT_CHANNEL, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(credentials), encoding="utf-8")
    return path


def assistant_processes(
    settings: Settings,
    model: Path,
    files_dir: Path,
    serving_locks: Mapping[str, Path] | None = None,
) -> list[ManagedProcess]:
    """The assistant's servers in start order: web (ingestion), actions, Rasa; the endpoints
    and credentials files made for this run are written into ``files_dir``. A server named in
    ``serving_locks`` serves only while it holds its lock (see :func:`standby_of`)."""
    endpoints = endpoints_for(settings, files_dir / "endpoints.yml")
    credentials = credentials_for(settings, files_dir / "credentials.yml")
    specs = [
        web_server(settings),
        action_server(settings),
        rasa_server(settings, model, endpoints, credentials),
    ]
    for spec in specs:
        lock = (serving_locks or {}).get(spec.name)
        if lock is not None:
            spec.env[LOCK_ENV] = str(lock)
    return [ManagedProcess(spec) for spec in specs]


def standby_of(server: ManagedProcess) -> ManagedProcess:
    """A second process of ``server`` (named ``<name>-standby``, with a log of its own) that
    loads and then waits for the serving lock its command is given: it takes the port the
    moment ``server`` ends (:mod:`connectors.standby`).

    >>> rasa = ManagedProcess(ServiceSpec("rasa", ["rasa"], "http://r/", Path("run/rasa.log"),
    ...                                   env={LOCK_ENV: "run/rasa-serving.lock"}))
    >>> standby = standby_of(rasa).spec
    >>> standby.name, str(standby.log_path), standby.command == rasa.spec.command
    ('rasa-standby', 'run/rasa-standby.log', True)

    Raises:
        ValueError: ``server`` is not given a serving lock, so both would serve.
    """
    spec = server.spec
    if LOCK_ENV not in spec.env:
        raise ValueError(f"{spec.name} takes no serving lock ({LOCK_ENV}): it cannot stand by")
    return ManagedProcess(
        dataclasses.replace(
            spec,
            name=f"{spec.name}-standby",
            log_path=spec.log_path.with_name(f"{spec.name}-standby.log"),
            env=dict(spec.env),
        )
    )


def start_in_order(processes: list[ManagedProcess], timeout: float) -> None:
    """Start each process and wait until it is ready; on failure stop those already started."""
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            process.start()
            started.append(process)
            process.wait_ready(timeout)
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise
