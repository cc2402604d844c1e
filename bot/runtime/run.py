"""``python -m bot run``: start the web service, the action server and the Rasa server, keep them
running (restarting a crashed or hung one), stop them all on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from bot.domain.auth import AuthError
from bot.domain.first_admin import FirstAdmin, ensure_admin
from bot.runtime.chat import chat_in_terminal
from bot.runtime.guardian import Guardian
from bot.runtime.leftovers import RUN_ID_ENV, AlreadyRunning, claim, release
from bot.runtime.private_files import private_umask, tighten
from bot.runtime.processes import ProcessFailed, assistant_processes, standby_of
from bot.runtime.supervision import RunLog, Supervisor
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade


def serving_lock(run_dir: Path, server: str) -> Path:
    """The lock the serving process of ``server`` holds and its standby waits on
    (:mod:`connectors.standby`); it holds the serving process's pid."""
    return run_dir / f"{server}-serving.lock"


def console_lines(settings: Settings, first_admin: FirstAdmin | None) -> str:
    web = settings.servers.web_url
    lines = f"""  Shop page:  {web}/demo  (a demo shop page with the chat widget)
  Console:    {web}/console/  (agents answer handed-over customers here)"""
    if first_admin and first_admin.generated:
        lines += f"""
              sign in as {first_admin.username!r} with the password {first_admin.password}
              (made for this fresh database and shown only now; change it with
              `echo 'new passphrase' | .venv/bin/python -m bot agents password {first_admin.username}`)"""
    elif first_admin:
        lines += (
            f"\n              sign in as {first_admin.username!r} (ADMIN_USERNAME, ADMIN_PASSWORD)"
        )
    return lines


def _banner(settings: Settings, first_admin: FirstAdmin | None = None) -> str:
    url = settings.servers.rasa_url
    rest_token = settings.rasa.rest_channel_token.get_secret_value()
    wechat = (
        f"{url}/webhooks/wechat/webhook  (the Official Account's server URL)"
        if settings.wechat.wechat_token.get_secret_value()
        else "off (set WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET to connect an account)"
    )
    return f"""
The shop assistant is running.
  REST:       curl -s {url}/webhooks/rest/webhook -H "Authorization: Bearer {rest_token}" \\
                -d '{{"sender": "me", "message": "Where is my order?"}}'
              (the token is REST_CHANNEL_TOKEN, or one made for this run)
  socket.io:  {url}/socket.io  (events user_uttered / bot_uttered)
  WeChat:     {wechat}
  HTTP API:   {url}  (token in RASA_API_TOKEN, or this run's: {settings.rasa.rasa_api_token.get_secret_value()})
{console_lines(settings, first_admin)}
  Web:        {settings.servers.web_url}/health
  Profiles:   .venv/bin/python -m bot profile SENDER_ID --json
  Logs:       {settings.supervision.run_dir}/rasa.log, actions.log, web.log, supervisor.log (restarts)
              (rasa-standby.log, actions-standby.log: the standbys'; each pair swaps at a takeover)
Press Ctrl-C to stop.
"""


def run_assistant(settings: Settings, model: Path) -> int:
    """Start the servers, keep them alive (see :mod:`bot.runtime.supervision`) until Ctrl-C, SIGTERM
    or SIGHUP, then stop them; the exit status."""
    if not model.is_file():
        print(f"error: no Rasa model at {model}; run `make train`", file=sys.stderr)
        return 2
    private_umask()  # whatever this process and the servers create is the owner's only
    try:
        record, ended = claim(settings.supervision.run_dir)
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if ended:
        print(f"ended processes {ended}, left by a run that did not stop cleanly", flush=True)
    os.environ[RUN_ID_ENV] = record.run_id  # inherited by every process of this run
    tighten(settings)
    print("migrating the application database ...", flush=True)
    asyncio.run(upgrade(settings.database.database_url))
    first_admin = asyncio.run(first_admin_of(settings))
    run_dir = settings.supervision.run_dir
    with_standby = {
        "rasa": settings.supervision.rasa_standby,
        "actions": settings.supervision.actions_standby,
    }
    locks = {name: serving_lock(run_dir, name) for name, on in with_standby.items() if on}
    processes = assistant_processes(settings, model, run_dir, serving_locks=locks)
    standbys = {p.name: standby_of(p) for p in processes if p.name in locks}
    log = RunLog(run_dir / "supervisor.log", echo=say)
    supervisor = Supervisor(
        processes, settings.supervision, log, Guardian(), say=say, standbys=standbys
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        # All three load at once: Rasa asks the action server only when a message comes.
        supervisor.start(time.monotonic, together=True)
        tighten(settings)  # files the servers created before the umask reached them
        print(_banner(settings, first_admin), flush=True)
        if sys.stdin.isatty():
            _chat_in_background(settings, stop)
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


def interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM and SIGHUP stop the run as Ctrl-C does. The handler runs in the main thread
    between two of its steps, possibly while it holds the lock of the event the watch waits on
    (``Event.wait``): setting that event here waited for that lock forever, and the run never
    stopped. Raising is all it may do; the main thread stops the servers on its way out."""
    raise KeyboardInterrupt


async def first_admin_of(settings: Settings) -> FirstAdmin | None:
    """The admin made for a database without one (see :mod:`bot.domain.first_admin`)."""
    engine = create_engine(settings.database.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await ensure_admin(
                session,
                settings.web.admin_username,
                settings.web.admin_password.get_secret_value(),
                generate=True,
            )
    except AuthError as exc:
        print(f"warning: cannot create the first admin: {exc}", file=sys.stderr, flush=True)
        return None
    finally:
        await engine.dispose()


def _chat_in_background(settings: Settings, stop: threading.Event) -> None:
    """The terminal chat runs in a thread: the main thread keeps supervising (and starting
    servers, whose parent-death signal is tied to it). Ctrl-D ends the chat and the run."""
    token = settings.rasa.rest_channel_token.get_secret_value()

    def chat() -> None:
        while not stop.is_set():
            try:
                chat_in_terminal(settings.servers.rasa_url, token)
            except OSError as exc:  # Rasa restarting: say so, and go on chatting
                say(f"(no answer: {exc}; see {settings.supervision.run_dir / 'supervisor.log'})")
                continue
            stop.set()

    threading.Thread(target=chat, name="chat", daemon=True).start()


def say(message: str) -> None:
    """Print, but never let a closed terminal or pipe stop the shutdown."""
    with contextlib.suppress(OSError):
        print(message, flush=True)
