"""``python -m bot.runtime.action_server``: rasa-sdk's action server, for Rasa only.

``python -m rasa_sdk`` answers anyone who reaches its port, and an action call carries a
tracker the caller writes: a crafted one made ``action_deliver_outbox`` hand out agents' pending
replies. This launcher builds rasa-sdk's own app and serves it the way rasa-sdk does (the same
command-line options, a Sanic main process and its worker processes), with two additions:

- every request but ``GET /health`` (the supervisor's probe) needs ``Authorization: Bearer
  <ACTION_SERVER_TOKEN>``, compared in constant time, else 401. Rasa sends it: the endpoints
  file the supervisor writes names the header with a ``${ACTION_SERVER_TOKEN}`` reference;
- a worker that dies (kill -9, out of memory) is not replaced by Sanic, and the main process
  would keep the port open with nobody answering: the main process exits instead
  (:data:`WORKER_DIED`), so that the supervisor restarts the server at once. Workers also die
  with the main process rather than keep the port;
- ``--warm-up MODULE:FUNCTION`` runs (in a thread) before a worker serves: the FAQ model and
  index load before ``/health`` answers, so that "ready" means the first question is answered
  at once. Otherwise the first action call after a restart waits for them on the event loop,
  which then answers nothing, not even ``/health``, for as long as they take to load.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_ENDPOINTS_PATH
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader
from sanic.worker.manager import WorkerManager

from bot.runtime.guardian import die_with_parent

log = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})
WORKER_DIED = 70  # EX_SOFTWARE: the supervisor's log shows it with the log's last line
# How long a worker may take to start (warm-up included) before Sanic gives up on it.
WORKER_START_SECONDS = 300
# How a worker ends when Sanic itself stops it: not a crash.
NORMAL_ENDS = frozenset({0, -signal.SIGINT, -signal.SIGTERM})


def authorized(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>``.

    >>> authorized("Bearer s3cret", "s3cret"), authorized("s3cret", "s3cret")
    (True, False)
    """
    if not token or not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def require_token(token: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse | None]]:
    """A Sanic request middleware answering 401 to calls without the token."""

    async def middleware(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if authorized(request.headers.get("Authorization"), token):
            return None
        return response.json(
            {"error": "the action server needs its token (Authorization: Bearer ...)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="actions"'},
        )

    return middleware


def create_app(
    actions_package: str,
    token: str,
    cors_origins: list[str] | str | None = None,
    auto_reload: bool = False,
    endpoints: str = DEFAULT_ENDPOINTS_PATH,
    warm_up: str | None = None,
) -> Sanic[Any, Any]:
    """rasa-sdk's app (built anew in each worker process) behind :func:`require_token`.

    Raises:
        ValueError: ``token`` is empty (an open action server is never what is wanted).
    """
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty")
    executor = ActionExecutor()
    executor.register_package(actions_package)
    app: Sanic[Any, Any] = create_app_for_serve(
        executor, cors_origins=cors_origins, auto_reload=auto_reload, endpoints=endpoints
    )
    app.register_middleware(require_token(token), "request")
    app.register_listener(_in_worker, "before_server_start")
    if warm_up:
        app.register_listener(partial(_warm_up, warm_up), "before_server_start")
    app.register_listener(_watch_workers, "main_process_ready")
    return app


def _in_worker(_app: Sanic[Any, Any]) -> None:
    die_with_parent(signal.SIGKILL)


async def _warm_up(target: str, _app: Sanic[Any, Any]) -> None:
    """Call ``module:function`` in a thread; a failure is logged, and the server starts."""
    module, _, name = target.partition(":")
    started = time.monotonic()
    try:
        function = getattr(importlib.import_module(module), name)
        await asyncio.get_running_loop().run_in_executor(None, function)
    except Exception:  # the server still serves every other action
        log.exception("warm-up %s failed", target)
        return
    log.info("warm-up %s done in %.1f s", target, time.monotonic() - started)


def _watch_workers(app: Sanic[Any, Any]) -> None:
    manager = app.manager
    threading.Thread(
        target=_exit_when_a_worker_dies, args=(manager,), name="worker-watch", daemon=True
    ).start()


def _exit_when_a_worker_dies(manager: WorkerManager, interval: float = 0.2) -> None:
    while True:
        time.sleep(interval)
        for process in list(manager.processes):
            code = process.exitcode
            if "-Server-" in process.name and code is not None and code not in NORMAL_ENDS:
                ended = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
                log.error(
                    "worker %s (pid %s) died (%s): stopping the action server so that it is "
                    "restarted whole",
                    process.name,
                    process.pid,
                    ended,
                )
                logging.shutdown()
                for child in multiprocessing.active_children():  # Sanic's shared-state manager
                    child.kill()
                os._exit(WORKER_DIED)


def main(argv: list[str] | None = None) -> int:
    parser = create_argument_parser()
    parser.add_argument(
        "--warm-up",
        metavar="MODULE:FUNCTION",
        help="call this (in a thread) before a worker serves, e.g. to load models",
    )
    args = parser.parse_args(argv)
    if getattr(args, "grpc", False):
        parser.error("gRPC is not supported here; run python -m rasa_sdk for it")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        parser.error(f"set {TOKEN_ENV}: the action server refuses to run without a token")
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"sanic.*")
    loader = AppLoader(
        factory=partial(
            create_app,
            args.actions_module or args.actions,
            token,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
            endpoints=args.endpoints,
            warm_up=args.warm_up,
        )
    )
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    ssl = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    app.prepare(host=host, port=args.port, ssl=ssl, workers=utils.number_of_sanic_workers())
    log.info("action server (token required) on %s:%s", host, args.port)
    # A worker acknowledges its start after the warm-up (the FAQ model). Sanic allows 30 s for
    # it and then shuts everything down: on a busy machine loading the model took longer. The
    # supervisor has its own, longer, start-up limit; this one only has to stay out of its way.
    WorkerManager.THRESHOLD = WORKER_START_SECONDS * 10  # in Sanic's polls of 0.1 s
    Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    # Run from the module's importable name: Sanic's worker processes unpickle the app factory
    # by that name (``__main__.create_app`` would not be found in them).
    from bot.runtime import action_server

    sys.exit(action_server.main())
