"""``python -m bot run``: start the action server and the Rasa server, stop both on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from pathlib import Path

from bot.chat import chat_in_terminal
from bot.migrate import upgrade
from bot.processes import ProcessFailed, assistant_processes
from bot.settings import Settings


def _banner(settings: Settings) -> str:
    url = settings.rasa_url
    wechat = (
        f"{url}/webhooks/wechat/webhook  (the Official Account's server URL)"
        if settings.wechat_token.get_secret_value()
        else "off (set WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET to connect an account)"
    )
    return f"""
The shop assistant is running.
  REST:       curl -s {url}/webhooks/rest/webhook -d '{{"sender": "me", "message": "Where is my order?"}}'
  socket.io:  {url}/socket.io  (events user_uttered / bot_uttered)
  WeChat:     {wechat}
  HTTP API:   {url}  (token in RASA_API_TOKEN, or this run's: {settings.rasa_api_token.get_secret_value()})
  Web:        {settings.web_url}/health
  Profiles:   .venv/bin/python -m bot profile SENDER_ID --json
  Logs:       {settings.run_dir}/rasa.log, actions.log, web.log
Press Ctrl-C to stop.
"""


def run_assistant(settings: Settings, model: Path) -> int:
    if not model.is_file():
        print(f"error: no Rasa model at {model}; run `make train`", file=sys.stderr)
        return 2
    print("migrating the application database ...", flush=True)
    asyncio.run(upgrade(settings.database_url))
    processes = assistant_processes(settings, model, settings.run_dir)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        for process in processes:
            print(f"starting {process.name} (log: {process.spec.log_path}) ...", flush=True)
            process.start()
            process.wait_ready(settings.startup_timeout)
        print(_banner(settings), flush=True)
        if sys.stdin.isatty():
            chat_in_terminal(settings.rasa_url)
            return 0
        while not stop.wait(1.0):
            for process in processes:
                if not process.running():
                    raise ProcessFailed(f"{process.name} stopped:\n{process.log_tail()}")
        return 0
    except KeyboardInterrupt:
        return 0
    except ProcessFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        for process in reversed(processes):
            if process.process is not None:
                _say(f"stopping {process.name} ...")
                process.stop()
        _say("stopped.")


def _say(message: str) -> None:
    """Print, but never let a closed terminal or pipe stop the shutdown."""
    with contextlib.suppress(OSError):
        print(message, flush=True)
