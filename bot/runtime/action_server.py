"""``python -m bot.runtime.action_server``: rasa-sdk's action server, for Rasa only.

``python -m rasa_sdk`` answers anyone who reaches its port, and an action call carries a
tracker the caller writes: a crafted one made ``action_deliver_outbox`` hand out agents' pending
replies. This launcher builds rasa-sdk's own app (the same command-line options) with these
differences:

- every request but ``GET /health`` (the supervisor's probe) needs ``Authorization: Bearer
  <ACTION_SERVER_TOKEN>``, compared in constant time, else 401. Rasa sends it: the endpoints
  file the supervisor writes names the header with a ``${ACTION_SERVER_TOKEN}`` reference;
- ``--warm-up MODULE:FUNCTION`` runs before the port opens: the FAQ model and index are loaded
  before anything can connect, so that a connection accepted is a call answered at once. A
  server that opens its port first (rasa-sdk's Sanic main process does, then starts a worker
  that loads) has calls wait in its backlog meanwhile: a load balancer that sent one there
  after a restart could not pass it on to another server;
- the app is served by one process (Sanic's single-process mode): no worker that could die
  while the main process keeps the port open with nobody answering. More capacity is more
  servers behind the load balancer (``make cluster``);
- with ``SERVING_LOCK`` set (``make run``'s standby, :mod:`connectors.standby`), it serves
  only while it holds that lock, and waits for it, loaded, until then.
"""

from __future__ import annotations

import hmac
import importlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_ENDPOINTS_PATH
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.standby import LOCK_ENV, wait_to_serve

log = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})


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
) -> Sanic[Any, Any]:
    """rasa-sdk's app behind :func:`require_token`.

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
    return app


def warm_up(target: str) -> None:
    """Call ``module:function`` (``actions.faq:faq_searcher``); a failure is logged, and the
    server starts: it still serves every other action."""
    module, _, name = target.partition(":")
    started = time.monotonic()
    try:
        getattr(importlib.import_module(module), name)()
    except Exception:
        log.exception("warm-up %s failed", target)
        return
    log.info("warm-up %s done in %.1f s", target, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = create_argument_parser()
    parser.add_argument(
        "--warm-up",
        metavar="MODULE:FUNCTION",
        help="call this before the port opens, e.g. to load models",
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
    app = create_app(
        args.actions_module or args.actions,
        token,
        cors_origins=args.cors,
        auto_reload=args.auto_reload,
        endpoints=args.endpoints,
    )
    if args.warm_up:
        warm_up(args.warm_up)
    lock_path = os.environ.get(LOCK_ENV)
    lock = wait_to_serve(lock_path, "action server", log) if lock_path else None
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    ssl = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    app.prepare(host=host, port=args.port, ssl=ssl, single_process=True)
    log.info("action server (token required) on %s:%s", host, args.port)
    Sanic.serve_single(primary=app)
    del lock  # held until the server has stopped
    return 0


if __name__ == "__main__":
    sys.exit(main())
