"""``python -m bot cluster``: the replicas of :mod:`bot.runtime.cluster` and nginx in front, in
one supervised run (a crashed or hung replica is restarted, as ``python -m bot run`` does),
stopped together on Ctrl-C, SIGTERM or SIGHUP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

from bot.domain.first_admin import FirstAdmin
from bot.runtime.cluster import (
    ClusterRefused,
    check_shared_stores,
    cluster_processes,
    ensure_databases,
    topology,
)
from bot.runtime.guardian import Guardian
from bot.runtime.leftovers import RUN_ID_ENV, AlreadyRunning, claim, release
from bot.runtime.load_balancer import nginx_binary
from bot.runtime.private_files import private_umask, tighten
from bot.runtime.processes import ProcessFailed
from bot.runtime.run import console_lines, first_admin_of, interrupt, say
from bot.runtime.supervision import RunLog, Supervisor
from bot.settings import Settings
from bot.store.migrate import upgrade

READY = "Press Ctrl-C to stop."


def banner(settings: Settings, first_admin: FirstAdmin | None = None) -> str:
    """What runs where, for the person who started it."""
    replicas = topology(settings)
    run_dir = settings.supervision.run_dir
    lines = "\n".join(f"  {r.name:<10} {settings.servers.host}:{r.port}" for r in replicas)
    return f"""
The shop assistant runs as a cluster behind nginx.
  Rasa:       {settings.servers.rasa_url}  (REST, socket.io, WeChat, HTTP API)
  Actions:    {settings.servers.action_url}  (what the Rasa servers call)
{console_lines(settings, first_admin)}
Replicas:
{lines}
  Logs:       {run_dir}/<replica>.log, {run_dir}/nginx/access.log (upstream= names the
              replica of each request), {run_dir}/supervisor.log (restarts)
{READY}
"""


def run_cluster(settings: Settings, model: Path) -> int:
    """Start the replicas and nginx, keep them alive until a signal, stop them; the exit
    status (2: the settings or the machine cannot run a cluster)."""
    if not model.is_file():
        print(f"error: no Rasa model at {model}; run `make train`", file=sys.stderr)
        return 2
    try:
        check_shared_stores(settings)
        topology(settings)
        nginx_binary()
    except (ClusterRefused, FileNotFoundError) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    private_umask()
    try:
        record, ended = claim(settings.supervision.run_dir)
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if ended:
        print(f"ended processes {ended}, left by a run that did not stop cleanly", flush=True)
    os.environ[RUN_ID_ENV] = record.run_id
    tighten(settings)
    for name in asyncio.run(ensure_databases(settings)):
        print(f"created the database {name}", flush=True)
    print("migrating the application database ...", flush=True)
    asyncio.run(upgrade(settings.database.database_url))
    first_admin = asyncio.run(first_admin_of(settings))
    processes = cluster_processes(settings, model, settings.supervision.run_dir)
    log = RunLog(settings.supervision.run_dir / "supervisor.log", echo=say)
    supervisor = Supervisor(processes, settings.supervision, log, Guardian(), say=say)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        supervisor.start(time.monotonic, together=True)
        tighten(settings)
        say(banner(settings, first_admin))
        supervisor.watch(stop, time.monotonic)
        return 0
    except KeyboardInterrupt:
        return 0
    except ProcessFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        supervisor.stop()
        release(settings.supervision.run_dir, record)
        say("stopped.")
